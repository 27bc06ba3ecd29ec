package io.cachegate.support;

import io.vertx.core.net.TrustOptions;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust that remembers what it refused. The Vert.x PostgreSQL client reports a refused certificate
 * only as "SSL handshake failed" (the handshake's own exception is dropped), so the trust manager
 * given to it records the last {@link CertificateException} (untrusted chain, host name not in the
 * certificate) and {@link ConnectionErrors#explain} reads it back. A successful check clears it, and
 * a record older than a minute is ignored, so an old refusal never explains a new failure.
 */
public final class TlsRefusals {

  private static final long MAX_AGE_NANOS = TimeUnit.MINUTES.toNanos(1);

  private record Refusal(CertificateException error, long at) {}

  private final AtomicReference<Refusal> last = new AtomicReference<>();

  /** The last refusal of the past minute, or null. */
  public CertificateException recent() {
    Refusal r = last.get();
    return r == null || System.nanoTime() - r.at > MAX_AGE_NANOS ? null : r.error;
  }

  /** {@code factory}'s X.509 trust manager (initialised), recording into this. */
  public TrustOptions trust(TrustManagerFactory factory) {
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) return TrustOptions.wrap(new Recording(x));
    }
    throw new IllegalStateException("no X.509 trust manager in " + factory.getAlgorithm());
  }

  /** A trust manager factory over {@code store} (null: the JVM's default trust store). */
  public static TrustManagerFactory factory(KeyStore store) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      return tmf;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("trust store cannot be loaded: " + e.getMessage(), e);
    }
  }

  private final class Recording extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;

    Recording(X509ExtendedTrustManager delegate) {
      this.delegate = delegate;
    }

    private interface Check {
      void run() throws CertificateException;
    }

    private void recorded(Check check) throws CertificateException {
      try {
        check.run();
        last.set(null);
      } catch (CertificateException e) {
        last.set(new Refusal(e, System.nanoTime()));
        throw e;
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      recorded(() -> delegate.checkServerTrusted(chain, authType, engine)); // chain and, if asked, host name
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      recorded(() -> delegate.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      recorded(() -> delegate.checkServerTrusted(chain, authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }
}
