package io.cachegate.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;

/** A CA bundle given in the configuration: a readable PEM file holding at least one X.509 certificate. */
final class CaFile {

  private CaFile() {}

  /**
   * The absolute path of {@code file} once it is known to be a usable PEM CA bundle; otherwise a
   * {@link ConfigException} naming {@code key} ({@code what} says where in the key, e.g. "sslrootcert").
   */
  static String check(String file, String key, String what) {
    Path p = Path.of(file).toAbsolutePath();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(p);
    } catch (IOException e) {
      throw new ConfigException(key, what + " " + p + " cannot be read (" + (Files.exists(p) ? "not readable" : "no such file") + ")");
    }
    String text = new String(bytes, StandardCharsets.US_ASCII);
    if (!text.contains("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigException(key, what + " " + p + " is not a PEM certificate file (no -----BEGIN CERTIFICATE----- block)");
    }
    try {
      if (CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes)).isEmpty()) {
        throw new ConfigException(key, what + " " + p + " holds no certificate");
      }
    } catch (CertificateException e) {
      throw new ConfigException(key, what + " " + p + " is not a valid PEM certificate file (" + e.getMessage() + ")");
    }
    return p.toString();
  }

  /** The certificates of a checked CA file as a trust store. */
  static KeyStore keyStore(String file, String key, String what) {
    String p = check(file, key, what);
    try (var in = Files.newInputStream(Path.of(p))) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) ks.setCertificateEntry("ca-" + i++, c);
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(key, what + " " + p + " cannot be loaded (" + e.getMessage() + ")");
    }
  }
}
