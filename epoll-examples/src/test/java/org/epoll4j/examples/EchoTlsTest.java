package org.epoll4j.examples;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The echo example with {@code --keystore}: an SSLSocket echoes through it, and openssl s_client handshakes. */
@Timeout(120)
class EchoTlsTest {
    @TempDir
    Path dir;

    private static void run(Path stdout, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(new File("/dev/null"))
                .redirectOutput(stdout.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(String.join(" ", command) + " did not finish within 60 s");
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + Files.readString(stdout));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("org.epoll4j.examples.EchoServerTest#modes")
    void echoOverTlsWithKeystore(String mode) throws Exception {
        Path ks = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(dir.resolve("keytool.out"), keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "changeit", "-keypass", "changeit");

        EchoServer echo = new EchoServer();
        echo.stop = new CountDownLatch(1);
        ServerUnderTest server = ServerUnderTest.start(echo, echo.stop,
                EchoServerTest.args(mode, "--port", "0", "--keystore", ks.toString()));
        try {
            int p = server.port();
            KeyStore trust = KeyStore.getInstance(ks.toFile(), "changeit".toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", p)) {
                s.setSoTimeout(10_000);
                byte[] msg = "hello over tls".getBytes(StandardCharsets.US_ASCII);
                s.getOutputStream().write(msg);
                assertArrayEquals(msg, s.getInputStream().readNBytes(msg.length));
            }
            boolean openssl = new ProcessBuilder("sh", "-c", "command -v openssl").start().waitFor() == 0;
            if (System.getenv("CI") != null) {
                assertTrue(openssl, "openssl is missing, and CI must have it");
            }
            Assumptions.assumeTrue(openssl, "openssl is not installed");
            Path sOut = dir.resolve("s_client.out");
            run(sOut, "openssl", "s_client", "-connect", "127.0.0.1:" + p, "-brief");
            String text = Files.readString(sOut);
            assertTrue(text.contains("Protocol version: TLSv1.3"), text);
        } finally {
            server.requestStop();
            assertEquals(0, server.awaitExit(), () -> server.output() + server.errors());
        }
    }
}
