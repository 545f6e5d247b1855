package org.epoll4j.examples.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The http example over TLS with real clients: curl --cacert against a PEM certificate and key made by openssl and
 * against a PKCS12 keystore made by keytool; openssl s_client for the protocol and ALPN. Skipped if a tool is
 * missing, unless CI is set.
 */
@Timeout(120)
class HttpTlsClientsTest {
    private static Path dir;
    private static byte[] file;

    @BeforeAll
    static void certificates() throws Exception {
        dir = Files.createTempDirectory("http-tls");
        file = new byte[2 << 20];
        new Random(12).nextBytes(file);
        Files.write(dir.resolve("data.bin"), file);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Runs a command to completion (bounded), returning stdout; stderr is appended to failure messages. */
    private static String run(String stdin, String... command) throws Exception {
        String tool = command[0];
        boolean present = tool.startsWith("/")
                || new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
        if (System.getenv("CI") != null) {
            assertTrue(present, tool + " is missing, and CI must have it");
        }
        Assumptions.assumeTrue(present, tool + " is not installed");
        Path err = Files.createTempFile(dir, "client", ".err");
        Path out = Files.createTempFile(dir, "client", ".out");
        Path in = Files.createTempFile(dir, "client", ".in");
        Files.writeString(in, stdin == null ? "" : stdin);
        Process p = new ProcessBuilder(command).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(String.join(" ", command) + " did not finish within 60 s");
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + Files.readString(err));
        return Files.readString(out, StandardCharsets.ISO_8859_1);
    }

    private static void curlChecks(TestServer server, Path ca) throws Exception {
        String base = "https://localhost:" + server.port;
        String resolve = "localhost:" + server.port + ":127.0.0.1";
        assertEquals("Hello, World!|200", run(null, "curl", "-sS", "--max-time", "20", "--resolve", resolve,
                "--cacert", ca.toString(), "-w", "|%{http_code}", base + "/_epoll4j/plaintext"));
        Path got = dir.resolve("got.bin");
        run(null, "curl", "-sS", "--max-time", "30", "--resolve", resolve, "--cacert", ca.toString(), "-o",
                got.toString(), base + "/data.bin");
        assertArrayEquals(file, Files.readAllBytes(got), "a 2 MiB file over TLS (sendFile falls back to "
                + "read-encrypt-write)");
    }

    @Test
    void curlWithPemCertificateAndKey() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        run(null, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
        try (TestServer server = new TestServer("--root", dir.toString(), "--tls-cert", cert.toString(),
                "--tls-key", key.toString())) {
            curlChecks(server, cert);
            String s = run("", "openssl", "s_client", "-connect", "127.0.0.1:" + server.port, "-servername",
                    "localhost", "-alpn", "http/1.1", "-CAfile", cert.toString(), "-verify_return_error");
            assertTrue(s.contains("ALPN protocol: http/1.1"), s);
            assertTrue(s.contains("Verify return code: 0 (ok)"), s);
        }
    }

    @Test
    void curlWithKeytoolKeystore() throws Exception {
        Path ks = dir.resolve("server.p12");
        Path ca = dir.resolve("server.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(null, keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", ks.toString(), "-storepass", "changeit", "-keypass", "changeit");
        run(null, keytool, "-exportcert", "-rfc", "-alias", "server", "-keystore", ks.toString(), "-storepass",
                "changeit", "-file", ca.toString());
        try (TestServer server = new TestServer("--root", dir.toString(), "--keystore", ks.toString())) {
            curlChecks(server, ca);
        }
    }
}
