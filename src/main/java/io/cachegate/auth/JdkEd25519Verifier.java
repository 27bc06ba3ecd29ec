package io.cachegate.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Set;

/**
 * EdDSA (Ed25519) signature checks with the JDK's own Ed25519 (Java 15+). Nimbus's
 * {@code Ed25519Verifier} needs Google Tink, a second crypto library of several megabytes; the JDK
 * already has the algorithm, so this class adapts it to Nimbus's {@link JWSVerifier}. Stateless and
 * thread-safe (a {@link Signature} per call).
 */
final class JdkEd25519Verifier implements JWSVerifier {

  /** DER of SubjectPublicKeyInfo for id-Ed25519 (RFC 8410), followed by the 32 bytes of the key. */
  private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

  private final PublicKey key;
  private final JCAContext jca = new JCAContext();

  /** {@code x}: the raw 32-byte public key, as a JWK's {@code x} or the tail of an SPKI. */
  JdkEd25519Verifier(byte[] x) throws JOSEException {
    if (x.length != 32) throw new JOSEException("an Ed25519 public key has 32 bytes, not " + x.length);
    byte[] spki = new byte[SPKI_PREFIX.length + 32];
    System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
    System.arraycopy(x, 0, spki, SPKI_PREFIX.length, 32);
    try {
      this.key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new JOSEException("not an Ed25519 public key: " + e.getMessage(), e);
    }
  }

  /** The raw 32 bytes of an Ed25519 key given as an X.509 SubjectPublicKeyInfo, or null for another key. */
  static byte[] rawKey(PublicKey k) {
    byte[] der = k.getEncoded();
    if (!"Ed25519".equals(k.getAlgorithm()) && !"EdDSA".equals(k.getAlgorithm())) return null;
    if (der == null || der.length != SPKI_PREFIX.length + 32) return null;
    for (int i = 0; i < SPKI_PREFIX.length; i++) if (der[i] != SPKI_PREFIX[i]) return null;
    return java.util.Arrays.copyOfRange(der, SPKI_PREFIX.length, der.length);
  }

  @Override
  public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
    if (!ALGORITHMS.contains(header.getAlgorithm())) return false;
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(signingInput);
      return s.verify(signature.decode());
    } catch (SignatureException e) {
      return false; // a malformed signature is a bad one
    } catch (GeneralSecurityException e) {
      throw new JOSEException("Ed25519 verification failed: " + e.getMessage(), e);
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return ALGORITHMS;
  }

  @Override
  public JCAContext getJCAContext() {
    return jca;
  }
}
