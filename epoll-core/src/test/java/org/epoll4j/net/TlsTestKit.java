package org.epoll4j.net;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for the TLS tests: self-signed EC keypairs made once per JVM with the JDK's {@code keytool} (the JDK
 * has no public API to create a certificate) in a temporary directory, and SSLContexts built from them.
 */
final class TlsTestKit {
    static final char[] PASSWORD = "changeit".toCharArray();
    private static TlsTestKit instance;

    final KeyStore serverKeys;
    final KeyStore clientKeys;
    final Path serverKeystore;

    private TlsTestKit(Path dir) throws Exception {
        serverKeystore = dir.resolve("server.p12");
        serverKeys = generate(serverKeystore, "server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1");
        clientKeys = generate(dir.resolve("client.p12"), "client", "CN=test client", null);
    }

    static synchronized TlsTestKit get() throws Exception {
        if (instance == null) {
            Path dir = Files.createTempDirectory("epoll4j-tls");
            dir.toFile().deleteOnExit();
            instance = new TlsTestKit(dir);
        }
        return instance;
    }

    private static KeyStore generate(Path file, String alias, String dname, String ext) throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        List<String> cmd = new ArrayList<>(List.of(keytool, "-genkeypair", "-alias", alias, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", dname, "-validity", "3", "-storetype", "PKCS12", "-keystore",
                file.toString(), "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)));
        if (ext != null) {
            cmd.add("-ext");
            cmd.add(ext);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("keytool did not finish in 60 s: " + cmd);
            }
            out = in.readAllBytes();
        }
        if (p.exitValue() != 0) {
            throw new IOException("keytool failed (" + p.exitValue() + "): " + new String(out));
        }
        file.toFile().deleteOnExit();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, PASSWORD);
        }
        return ks;
    }

    private static Certificate cert(KeyStore ks) throws Exception {
        return ks.getCertificate(ks.aliases().nextElement());
    }

    private static SSLContext context(KeyStore keys, KeyStore trusted) throws Exception {
        return context(keys, trusted, TlsTestProvider.newContext());
    }

    private static SSLContext context(KeyStore keys, KeyStore trusted, SSLContext ctx) throws Exception {
        KeyManagerFactory kmf = null;
        if (keys != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASSWORD);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("peer", cert(trusted));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** The server's: its key; trusts the client's certificate (for client authentication). */
    SSLContext serverContext() throws Exception {
        return context(serverKeys, clientKeys);
    }

    /** A client's: trusts the server's certificate; has the client's key. */
    SSLContext clientContext() throws Exception {
        return context(clientKeys, serverKeys);
    }

    /**
     * The test's own peers (SSLSocket, SSLServerSocket) on the JDK's engine whatever the provider under test: the
     * library is tested against another implementation, and a provider's sockets (Conscrypt's keep a pipe per
     * socket until finalised, cannot start a renegotiation, lack CBC suites) do not decide the result.
     */
    SSLContext peerServerContext() throws Exception {
        return context(serverKeys, clientKeys, SSLContext.getInstance("TLS"));
    }

    /** {@link #clientContext()} for the test's own peer sockets (see {@link #peerServerContext()}). */
    SSLContext peerClientContext() throws Exception {
        return context(clientKeys, serverKeys, SSLContext.getInstance("TLS"));
    }

    /** {@link #anonymousClientContext()} for the test's own peer sockets. */
    SSLContext peerAnonymousClientContext() throws Exception {
        return context(null, serverKeys, SSLContext.getInstance("TLS"));
    }

    /** A client without a certificate of its own. */
    SSLContext anonymousClientContext() throws Exception {
        return context(null, serverKeys);
    }
}
