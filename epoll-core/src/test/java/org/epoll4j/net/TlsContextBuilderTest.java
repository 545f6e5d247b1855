package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * TlsContextBuilder against a PKI made with openssl (TlsPki): PEM chains with an intermediate and keys in every format
 * openssl writes (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1), PKCS#12, trust from PEM for clients and client
 * authentication, and errors that name the file and what is wrong.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsContextBuilderTest {
    @TempDir
    Path tmp;

    private static Path pki(String name) throws Exception {
        return TlsPki.file(name);
    }

    /** Serves an echo with {@code server}; a JDK client trusting only {@code root} (hostname checked) says ping. */
    private static X509Certificate[] ping(TlsConfig server, SSLContext client) throws Exception {
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-pem")) {
            TcpServer s = TcpServer.builder(loop.reactor).tls(server).handler(echo).start();
            InetSocketAddress at = (InetSocketAddress) s.localAddress();
            X509Certificate[] chain;
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket(at.getAddress(), at.getPort())) {
                c.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                SSLParameters p = c.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the leaf's SAN has IP:127.0.0.1
                c.setSSLParameters(p);
                c.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                InputStream in = c.getInputStream();
                byte[] b = in.readNBytes(4);
                assertEquals("ping", new String(b, StandardCharsets.US_ASCII));
                chain = (X509Certificate[]) c.getSession().getPeerCertificates();
            }
            assertNull(echo.nextClose().cause());
            s.close();
            return chain;
        }
    }

    private static SSLContext trusting(String alg) throws Exception {
        return TlsContextBuilder.forClient().trust(pki(alg + "-root.pem")).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa-leaf.key", "rsa-leaf.pkcs1", "ec-leaf.key", "ec-leaf.sec1"})
    void serverFromPemChainAndKey(String keyFile) throws Exception {
        String alg = keyFile.substring(0, keyFile.indexOf('-'));
        TlsConfig server = TlsContextBuilder.forServer(pki(alg + "-chain.pem"), pki(keyFile)).toConfig();
        X509Certificate[] chain = ping(server, trusting(alg));
        assertEquals(2, chain.length, "leaf and intermediate were sent");
        assertEquals("CN=localhost", chain[0].getSubjectX500Principal().getName());
        assertEquals("CN=int-" + alg, chain[1].getSubjectX500Principal().getName());
        assertEquals(alg.equals("rsa") ? "RSA" : "EC", chain[0].getPublicKey().getAlgorithm());
    }

    @Test
    void serverFromEncryptedPkcs8() throws Exception {
        TlsConfig server = TlsContextBuilder.forServer(pki("ec-chain.pem"), pki("ec-leaf.enc"),
                TlsPki.PASSWORD.toCharArray()).toConfig();
        assertEquals(2, ping(server, trusting("ec")).length);
    }

    @Test
    void serverFromPkcs12() throws Exception {
        TlsConfig server = TlsContextBuilder.forServer(pki("rsa.p12"), TlsPki.PASSWORD.toCharArray()).toConfig();
        assertEquals(2, ping(server, trusting("rsa")).length);
    }

    @Test
    void clientAuthenticationWithPemTrustOnBothSides() throws Exception {
        TlsConfig server = TlsContextBuilder.forServer(pki("ec-chain.pem"), pki("ec-leaf.key"))
                .trust(pki("rsa-root.pem")).toConfig().clientAuth(TlsConfig.ClientAuth.NEED);
        SSLContext client = TlsContextBuilder.forClient().keyMaterial(pki("rsa-chain.pem"), pki("rsa-leaf.pkcs1"), null)
                .trust(pki("ec-root.pem")).build();
        ping(server, client);
        // a client whose certificate the server does not trust is refused
        SSLContext stranger = TlsContextBuilder.forClient().keyMaterial(pki("ec-chain.pem"), pki("ec-leaf.key"), null)
                .trust(pki("ec-root.pem")).build();
        assertThrows(Exception.class, () -> ping(server, stranger));
    }

    @Test
    void trustFromKeyStore() throws Exception {
        TlsConfig server = TlsContextBuilder.forServer(pki("rsa-chain.pem"), pki("rsa-leaf.key")).toConfig();
        SSLContext client = TlsContextBuilder.forClient().trust(pki("rsa.p12"), TlsPki.PASSWORD.toCharArray()).build();
        ping(server, client); // the store's chain holds the intermediate: trusting it is enough
    }

    /**
     * A provider with key factories of its own (Conscrypt) gets its own key objects, converted once, so its engine does
     * not re-parse a JDK key on every handshake; the JDK's engine (also over ACCP's primitives) gets the managers
     * unwrapped. On the provider under test, for both key types, and a handshake on those managers works.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rsa", "ec"})
    void keysAreTheEngineProvidersOwn(String alg) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "pw".toCharArray();
        ks.setKeyEntry("k", PemFiles.privateKey(pki(alg + "-leaf.key"), null), pw,
                PemFiles.certificates(pki(alg + "-chain.pem")).toArray(new X509Certificate[0]));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("SunX509");
        kmf.init(ks, pw);
        javax.net.ssl.KeyManager[] managers = kmf.getKeyManagers();
        SSLContext ctx = TlsTestProvider.newContext();
        javax.net.ssl.KeyManager[] wrapped = ProviderKeyManager.wrap(managers, ctx.getProvider());
        javax.net.ssl.X509KeyManager km = (javax.net.ssl.X509KeyManager) wrapped[0];
        java.security.PrivateKey key = km.getPrivateKey("k");
        if (TlsTestProvider.isConscrypt()) {
            assertTrue(key.getClass().getName().startsWith("org.conscrypt."), key.getClass().getName());
            assertSame(key, km.getPrivateKey("k"), "converted once, then the same object");
            assertArrayEquals(((javax.net.ssl.X509KeyManager) managers[0]).getPrivateKey("k").getEncoded(),
                    key.getEncoded(), "the same key");
            assertEquals("k", km.chooseServerAlias(alg.equals("rsa") ? "RSA" : "EC", null, null));
            assertEquals(2, km.getCertificateChain("k").length);
            assertNull(km.getPrivateKey("nope"));
        } else {
            assertSame(managers, wrapped, "the JDK's engine takes the key managers as they are");
        }
        ctx.init(wrapped, null, null);
        ping(TlsConfig.server(ctx), trusting(alg));
    }

    // ------------------------------------------------------------------ errors name the file and the problem

    private static void assertFails(String[] expected, ThrowingBuild build) {
        Exception e = assertThrows(Exception.class, build::run);
        for (String part : expected) {
            assertTrue(e.getMessage().contains(part), () -> "\"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }

    interface ThrowingBuild {
        void run() throws Exception;
    }

    @Test
    void missingFileIsNamed() throws Exception {
        Path missing = tmp.resolve("nope.pem");
        assertFails(new String[]{missing.toString(), "cannot read"},
                () -> TlsContextBuilder.forServer(missing, pki("ec-leaf.key")).build());
    }

    @Test
    void keyOfAnotherCertificateIsRefused() throws Exception {
        Path key = pki("ec-int.key");
        assertFails(new String[]{key.toString(), "does not belong", "ec-chain.pem"},
                () -> TlsContextBuilder.forServer(pki("ec-chain.pem"), key).build());
        Path rsaKey = pki("rsa-leaf.key");
        assertFails(new String[]{rsaKey.toString(), "does not belong"},
                () -> TlsContextBuilder.forServer(pki("ec-chain.pem"), rsaKey).build());
    }

    @Test
    void keyFileGivenAsCertificateAndViceVersa() throws Exception {
        Path key = pki("ec-leaf.key");
        assertFails(new String[]{key.toString(), "no certificate"},
                () -> TlsContextBuilder.forServer(key, key).build());
        Path cert = pki("ec-chain.pem");
        assertFails(new String[]{cert.toString(), "no private key"},
                () -> TlsContextBuilder.forServer(cert, cert).build());
    }

    @Test
    void encryptedKeyNeedsTheRightPassword() throws Exception {
        Path key = pki("ec-leaf.enc");
        assertFails(new String[]{key.toString(), "encrypted", "no password"},
                () -> TlsContextBuilder.forServer(pki("ec-chain.pem"), key).build());
        assertFails(new String[]{key.toString(), "cannot decrypt"},
                () -> TlsContextBuilder.forServer(pki("ec-chain.pem"), key, "wrong".toCharArray()).build());
    }

    @Test
    void legacyEncryptedPemIsExplained() throws Exception {
        Path key = tmp.resolve("legacy.key");
        Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                + "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertFails(new String[]{key.toString(), "legacy PEM encryption", "openssl pkcs8 -topk8"},
                () -> TlsContextBuilder.forServer(pki("rsa-chain.pem"), key).build());
    }

    @Test
    void keyStoreErrors() throws Exception {
        Path p12 = pki("rsa.p12");
        assertFails(new String[]{p12.toString(), "password"},
                () -> TlsContextBuilder.forServer(p12, "wrong".toCharArray()).build());
        Path pem = pki("rsa-chain.pem");
        assertFails(new String[]{pem.toString(), "PEM"},
                () -> TlsContextBuilder.forServer(pem, TlsPki.PASSWORD.toCharArray()).build());
        Path garbage = tmp.resolve("garbage.pem");
        Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        assertFails(new String[]{garbage.toString(), "not a valid X.509 certificate"},
                () -> TlsContextBuilder.forClient().trust(garbage).build());
    }

    @Test
    void unknownProviderListsTheInstalledOnes() throws Exception {
        assertFails(new String[]{"NoSuchTls", "SunJSSE"},
                () -> TlsContextBuilder.forClient().provider("NoSuchTls").build());
        assertEquals("SunJSSE", TlsContextBuilder.forClient().provider("SunJSSE").build().getProvider().getName());
    }

    @Test
    void sessionSettingsReachTheContext() throws Exception {
        SSLContext ctx = TlsContextBuilder.forServer(pki("ec-chain.pem"), pki("ec-leaf.key"))
                .sessionCacheSize(123).sessionTimeout(java.time.Duration.ofMinutes(5)).build();
        assertEquals(123, ctx.getServerSessionContext().getSessionCacheSize());
        assertEquals(300, ctx.getServerSessionContext().getSessionTimeout());
    }
}
