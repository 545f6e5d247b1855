package org.epoll4j.net;

import javax.net.ssl.SSLContext;
import java.security.Provider;
import java.security.Security;

/**
 * The TLS provider the TLS tests run on, from the system property {@code epoll4j.tls.provider} (the pom runs the TLS
 * tests once per value): {@code jdk} (default: SunJSSE on the JDK's own crypto), {@code conscrypt} (Conscrypt's
 * BoringSSL-backed SSLEngine) or {@code accp} (Amazon Corretto Crypto Provider installed first: the JDK's SSLEngine on
 * native AWS-LC primitives). Loaded reflectively: the providers are test dependencies, not the library's.
 */
final class TlsTestProvider {
    static final String NAME = System.getProperty("epoll4j.tls.provider", "jdk").isEmpty() ? "jdk"
            : System.getProperty("epoll4j.tls.provider", "jdk");
    private static Provider jsse;

    private TlsTestProvider() {
    }

    /** The JSSE provider for SSLContexts, or null for the JDK's default. */
    static synchronized Provider jsse() {
        if (jsse != null || NAME.equals("jdk")) {
            return jsse;
        }
        try {
            switch (NAME) {
                case "conscrypt" -> jsse = (Provider) Class.forName("org.conscrypt.Conscrypt")
                        .getMethod("newProvider").invoke(null);
                case "accp" -> {
                    Class<?> accp = Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider");
                    accp.getMethod("install").invoke(null);
                    Object instance = accp.getField("INSTANCE").get(null);
                    accp.getMethod("assertHealthy").invoke(instance);
                    if (!Security.getProviders()[0].getName().equals("AmazonCorrettoCryptoProvider")) {
                        throw new IllegalStateException("ACCP is not the first provider: " + Security.getProviders()[0]);
                    }
                    jsse = Security.getProvider("SunJSSE"); // the JDK's engine, over ACCP's primitives
                }
                default -> throw new IllegalArgumentException("epoll4j.tls.provider: unknown \"" + NAME
                        + "\" (jdk, conscrypt, accp)");
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("TLS provider " + NAME + " is not loadable: " + e, e);
        }
        return jsse;
    }

    static SSLContext newContext() throws Exception {
        Provider p = jsse();
        return p == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", p);
    }

    static boolean isConscrypt() {
        return NAME.equals("conscrypt");
    }
}
