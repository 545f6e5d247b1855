package org.epoll4j.examples;

import org.epoll4j.net.TlsConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * TLS for the example servers: {@code --tls-cert}/{@code --tls-key} (PEM: a certificate chain and a PKCS#8 private
 * key, as {@code openssl req -newkey} writes them) or {@code --keystore} (PKCS12 or JKS, e.g. from {@code keytool}).
 */
public final class TlsOptions {
    @Option(names = "--tls-cert", paramLabel = "PEM", description = "serve TLS with this certificate chain (PEM)")
    Path certFile;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "the private key for --tls-cert (PKCS#8 PEM)")
    Path keyFile;

    @Option(names = "--keystore", paramLabel = "FILE", description = "serve TLS with the key in this keystore "
            + "(PKCS12 or JKS)")
    Path keystore;

    @Option(names = "--keystore-password", paramLabel = "PW", defaultValue = "changeit",
            description = "password of --keystore and its key (default: ${DEFAULT-VALUE})")
    String keystorePassword;

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
            char[] pw = keystorePassword.toCharArray();
            KeyStore ks;
            if (keystore != null) {
                ks = KeyStore.getInstance(keystore.toFile(), pw); // detects PKCS12 or JKS
            } else {
                ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("server", readKey(keyFile), pw, readChain(certFile));
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            TlsConfig tls = TlsConfig.server(ctx);
            return alpn.length > 0 ? tls.alpn(alpn) : tls;
        } catch (Exception e) {
            throw new ParameterException(spec.commandLine(), "cannot load the TLS key and certificate: " + e);
        }
    }

    private static Certificate[] readChain(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + pem);
            }
            return certs.toArray(new Certificate[0]);
        }
    }

    /** A PKCS#8 PEM key ("BEGIN PRIVATE KEY"); the JDK has no PEM reader, so the base64 is decoded here. */
    private static PrivateKey readKey(Path pem) throws Exception {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int from = text.indexOf(begin);
        int to = text.indexOf("-----END PRIVATE KEY-----");
        if (from < 0 || to < from) {
            throw new GeneralSecurityException(pem + " holds no PKCS#8 \"BEGIN PRIVATE KEY\" block (convert with "
                    + "openssl pkcs8 -topk8 -nocrypt)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : new String[]{"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException wrongAlgorithm) {
                // try the next
            }
        }
        throw new GeneralSecurityException(pem + ": not an RSA, EC or Ed25519 PKCS#8 key");
    }
}
