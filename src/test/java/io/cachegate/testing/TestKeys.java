package io.cachegate.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Signing keys made by the JDK, as an identity provider holds them: each signs tokens with its
 * algorithm and {@code kid} and shows its public half as a JWK or a PEM block. Ed25519 is signed with
 * the JDK's own Ed25519 (Nimbus's signer for it needs Google Tink).
 */
public final class TestKeys {

  private TestKeys() {}

  public record Signer(String kid, JWSAlgorithm alg, KeyPair pair) {

    /** The public JWK, with kid and alg, as a JWKS lists it. */
    public JWK jwk() {
      if (pair.getPublic() instanceof RSAPublicKey r) return new RSAKey.Builder(r).keyID(kid).algorithm(alg).build();
      if (pair.getPublic() instanceof ECPublicKey e) {
        return new ECKey.Builder(Curve.forECParameterSpec(e.getParams()), e).keyID(kid).algorithm(alg).build();
      }
      byte[] der = pair.getPublic().getEncoded();
      return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(Arrays.copyOfRange(der, der.length - 32, der.length)))
          .keyID(kid).build();
    }

    /** The public key as a PEM {@code PUBLIC KEY} block. */
    public String pem() {
      return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
          .encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    public String sign(JsonObject claims) {
      return sign(new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(kid).build(), claims);
    }

    public String sign(JWSHeader header, JsonObject claims) {
      try {
        if (alg == JWSAlgorithm.EdDSA || alg == JWSAlgorithm.Ed25519) {
          String input = header.toBase64URL() + "." + Base64URL.encode(claims.encode().getBytes(StandardCharsets.UTF_8));
          Signature s = Signature.getInstance("Ed25519");
          s.initSign(pair.getPrivate());
          s.update(input.getBytes(StandardCharsets.US_ASCII));
          return input + "." + Base64URL.encode(s.sign());
        }
        JWSObject jws = new JWSObject(header, new Payload(claims.encode()));
        jws.sign(pair.getPrivate() instanceof ECPrivateKey ec ? new ECDSASigner(ec) : new RSASSASigner(pair.getPrivate(),
            java.util.Set.of(com.nimbusds.jose.crypto.opts.AllowWeakRSAKey.getInstance()))); // a weak key's token, to be refused
        return jws.serialize();
      } catch (JOSEException | GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  public static Signer rsa(String kid, JWSAlgorithm alg) {
    return rsa(kid, alg, 2048);
  }

  public static Signer rsa(String kid, JWSAlgorithm alg, int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      return new Signer(kid, alg, g.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Signer ec(String kid, JWSAlgorithm alg) {
    String curve = alg == JWSAlgorithm.ES384 ? "secp384r1" : alg == JWSAlgorithm.ES512 ? "secp521r1" : "secp256r1";
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      return new Signer(kid, alg, g.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Signer ed25519(String kid) {
    try {
      return new Signer(kid, JWSAlgorithm.EdDSA, KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JWKS document of these keys' public halves. */
  public static String jwks(List<Signer> keys) {
    return new JWKSet(keys.stream().map(Signer::jwk).toList()).toString(true);
  }

  /** An HS256 token signed with {@code secret}, whatever that secret is (an attacker's choice included). */
  public static String hs256(byte[] secret, String kid, JsonObject claims) {
    try {
      JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).keyID(kid).build(),
          new Payload(claims.encode()));
      jws.sign(new MACSigner(secret));
      return jws.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
