package io.cachegate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway certificate authority for TLS tests, made with the machine's {@code openssl} (EC P-256,
 * valid two days) in a temporary directory that {@link #close()} deletes:
 * <ul>
 *   <li>{@link #ca}: the CA certificate the servers' certificates chain to;</li>
 *   <li>{@link #serverCert}/{@link #serverKey}: signed by it, SAN {@code DNS:localhost, IP:127.0.0.1};</li>
 *   <li>{@link #otherCert}/{@link #otherKey}: signed by it, SAN {@code DNS:other.example.test} only, for
 *       the host-name-mismatch case;</li>
 *   <li>{@link #unrelatedCa}: another CA that signed nothing here, for the wrong-CA case.</li>
 * </ul>
 * Keys are PEM (PKCS#8) with mode 0600, as PostgreSQL demands of {@code ssl_key_file}.
 */
public final class TestCerts implements AutoCloseable {

  public final Path dir;
  public final Path ca;
  public final Path serverCert;
  public final Path serverKey;
  public final Path otherCert;
  public final Path otherKey;
  public final Path unrelatedCa;

  private TestCerts(Path dir) {
    this.dir = dir;
    this.ca = dir.resolve("ca.pem");
    this.serverCert = dir.resolve("server.pem");
    this.serverKey = dir.resolve("server.key");
    this.otherCert = dir.resolve("other.pem");
    this.otherKey = dir.resolve("other.key");
    this.unrelatedCa = dir.resolve("unrelated-ca.pem");
  }

  public static TestCerts create() {
    Path dir;
    try {
      dir = Files.createTempDirectory("cachegate-certs");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TestCerts c = new TestCerts(dir);
    try {
      c.makeCa("ca", "cachegate test CA");
      c.makeCa("unrelated-ca", "some other CA");
      c.makeServer("server", "localhost", "DNS:localhost,IP:127.0.0.1");
      c.makeServer("other", "other.example.test", "DNS:other.example.test");
      Files.deleteIfExists(dir.resolve("unrelated-ca.key")); // nothing is signed with it
      return c;
    } catch (RuntimeException | IOException e) {
      c.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  private void makeCa(String name, String cn) throws IOException {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", dir.resolve(name + ".key").toString(), "-out", dir.resolve(name + ".pem").toString(), "-days", "2",
        "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    privateKey(dir.resolve(name + ".key"));
  }

  private void makeServer(String name, String cn, String san) throws IOException {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path ext = dir.resolve(name + ".ext");
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + cn);
    privateKey(key);
    Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        + "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=" + san + "\n", StandardCharsets.US_ASCII);
    openssl("x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", dir.resolve("ca.key").toString(),
        "-set_serial", Long.toString(System.nanoTime() & Long.MAX_VALUE), "-days", "2", "-extfile", ext.toString(),
        "-out", dir.resolve(name + ".pem").toString());
    Files.delete(csr);
    Files.delete(ext);
  }

  private static void privateKey(Path key) throws IOException {
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
  }

  private void openssl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("openssl " + args[0] + " did not finish");
      }
      if (p.exitValue() != 0) throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run openssl (needed for the TLS tests)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Deletes the directory and everything in it. */
  @Override
  public void close() {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
