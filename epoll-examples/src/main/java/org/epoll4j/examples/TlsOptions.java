package org.epoll4j.examples;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import org.epoll4j.net.TlsConfig;
import org.epoll4j.net.TlsContextBuilder;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;

/**
 * TLS for the example servers: {@code --tls-cert}/{@code --tls-key} (PEM: a certificate chain and a private key in any
 * form openssl writes) or {@code --keystore} (PKCS12 or JKS), read by {@link TlsContextBuilder}; {@code --tls-provider}
 * picks the crypto under the engine.
 */
public final class TlsOptions {
    /** The TLS providers the examples know. */
    public enum Provider {
        /** The JDK's SSLEngine on the JDK's own crypto (SunJSSE, SunEC). */
        jdk,
        /** The JDK's SSLEngine on Amazon Corretto Crypto Provider's native primitives (AWS-LC), installed first. */
        accp,
        /** Conscrypt's own SSLEngine: BoringSSL does the whole handshake and the records in native code. */
        conscrypt
    }

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "serve TLS with this certificate chain (PEM)")
    Path certFile;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "the private key for --tls-cert (PEM: PKCS#8, "
            + "PKCS#1 or SEC1)")
    Path keyFile;

    @Option(names = "--tls-key-password", paramLabel = "PW", description = "password of an encrypted --tls-key")
    String keyPassword;

    @Option(names = "--keystore", paramLabel = "FILE", description = "serve TLS with the key in this keystore "
            + "(PKCS12 or JKS)")
    Path keystore;

    @Option(names = "--keystore-password", paramLabel = "PW", defaultValue = "changeit",
            description = "password of --keystore and its key (default: ${DEFAULT-VALUE})")
    String keystorePassword;

    @Option(names = "--tls-provider", paramLabel = "NAME", defaultValue = "jdk",
            description = "crypto under the TLS engine: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    Provider provider;

    /** Whether any TLS option was given. */
    public boolean enabled() {
        return certFile != null || keyFile != null || keystore != null;
    }

    /**
     * The server-side TLS settings from the options, or null without TLS.
     *
     * @param spec the command, for error messages
     * @param alpn protocols to offer in ALPN, or none
     * @return the settings
     * @throws ParameterException if the options are inconsistent or the files cannot be read
     */
    public TlsConfig serverConfig(CommandSpec spec, String... alpn) {
        if (!enabled()) {
            return null;
        }
        if (keystore != null && (certFile != null || keyFile != null)) {
            throw new ParameterException(spec.commandLine(), "use --keystore or --tls-cert/--tls-key, not both");
        }
        if (keystore == null && (certFile == null || keyFile == null)) {
            throw new ParameterException(spec.commandLine(), "--tls-cert and --tls-key go together");
        }
        try {
            install(provider);
            TlsContextBuilder b = keystore != null
                    ? TlsContextBuilder.forServer(keystore, keystorePassword.toCharArray())
                    : keyPassword != null ? TlsContextBuilder.forServer(certFile, keyFile, keyPassword.toCharArray())
                    : TlsContextBuilder.forServer(certFile, keyFile);
            if (provider == Provider.conscrypt) {
                b = b.provider(org.conscrypt.Conscrypt.newProvider());
            }
            TlsConfig tls = b.toConfig();
            return alpn.length > 0 ? tls.alpn(alpn) : tls;
        } catch (Exception e) {
            throw new ParameterException(spec.commandLine(), "cannot load the TLS key and certificate: "
                    + e.getMessage());
        }
    }

    /** Makes {@code provider}'s crypto the one the JDK's engine uses (ACCP: installed as the first provider). */
    static void install(Provider provider) {
        if (provider == Provider.accp) {
            AmazonCorrettoCryptoProvider.install();
            AmazonCorrettoCryptoProvider.INSTANCE.assertHealthy();
        }
    }
}
