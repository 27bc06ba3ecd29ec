package io.cachegate.config;

import com.nimbusds.jose.jwk.Curve;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code auth.jwt.publicKeyFile}: the identity provider's public keys as PEM, for users without a JWKS
 * endpoint. {@code PUBLIC KEY} blocks (X.509 SubjectPublicKeyInfo: RSA, EC, Ed25519) and
 * {@code CERTIFICATE} blocks (the key of the certificate; its dates and chain are not checked, as a
 * JWKS's {@code x5c} is not). Anything unusable stops start-up naming the key and the reason.
 */
final class PublicKeyFile {

  private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

  private static final java.util.Set<Curve> EC_CURVES = java.util.Set.of(Curve.P_256, Curve.P_384, Curve.P_521);

  private PublicKeyFile() {}

  static List<PublicKey> read(String file, String key) {
    Path p = Path.of(file).toAbsolutePath();
    String text;
    try {
      text = Files.readString(p, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigException(key, p + " cannot be read (" + (Files.exists(p) ? "not readable" : "no such file") + ")");
    }
    List<PublicKey> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(key, p + ": a " + type + " block is not valid base64");
      }
      switch (type) {
        case "PUBLIC KEY" -> out.add(publicKey(der, p, key));
        case "CERTIFICATE" -> {
          PublicKey k;
          try {
            k = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der)).getPublicKey();
          } catch (GeneralSecurityException e) {
            throw new ConfigException(key, p + ": a CERTIFICATE block is not a valid X.509 certificate (" + e.getMessage() + ")");
          }
          if (!(k instanceof java.security.interfaces.RSAPublicKey || k instanceof java.security.interfaces.ECPublicKey
              || "Ed25519".equals(k.getAlgorithm()) || "EdDSA".equals(k.getAlgorithm()))) {
            throw new ConfigException(key, p + ": a certificate with a " + k.getAlgorithm() + " key; RSA, EC and Ed25519 are supported");
          }
          out.add(usable(k, p, key));
        }
        case "RSA PUBLIC KEY" -> throw new ConfigException(key, p + " holds a PKCS#1 RSA PUBLIC KEY; convert it to a PUBLIC KEY block: "
            + "openssl rsa -RSAPublicKey_in -in FILE -pubout");
        default -> {
          if (type.contains("PRIVATE")) throw new ConfigException(key, p + " holds a private key; give the gateway the public key only");
          throw new ConfigException(key, p + ": a " + type + " block is not a public key (PUBLIC KEY or CERTIFICATE)");
        }
      }
    }
    if (out.isEmpty()) throw new ConfigException(key, p + " holds no PEM PUBLIC KEY or CERTIFICATE block");
    return List.copyOf(out);
  }

  private static PublicKey publicKey(byte[] der, Path p, String key) {
    for (String alg : List.of("RSA", "EC", "Ed25519")) {
      PublicKey k;
      try {
        k = KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        continue; // not this algorithm: try the next
      }
      return usable(k, p, key);
    }
    throw new ConfigException(key, p + ": a PUBLIC KEY block is not an RSA, EC or Ed25519 key");
  }

  /** RSA of 2048 bits or more, EC on P-256, P-384 or P-521, Ed25519: the keys tokens are checked with. */
  private static PublicKey usable(PublicKey k, Path p, String key) {
    if (k instanceof java.security.interfaces.RSAPublicKey r && r.getModulus().bitLength() < 2048) {
      throw new ConfigException(key, p + ": an RSA key of " + r.getModulus().bitLength() + " bits; 2048 or more are needed");
    }
    if (k instanceof java.security.interfaces.ECPublicKey e && !EC_CURVES.contains(Curve.forECParameterSpec(e.getParams()))) {
      throw new ConfigException(key, p + ": an EC key on a curve tokens are not signed with here; P-256, P-384 and P-521 are");
    }
    return k;
  }
}
