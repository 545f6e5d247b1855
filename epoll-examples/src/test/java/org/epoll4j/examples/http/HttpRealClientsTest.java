package org.epoll4j.examples.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Smoke tests with clients nobody here wrote: curl (also resuming with -C -, ranges, --compressed, -L) and wrk
 * (skipped if missing, unless CI is set).
 */
@Timeout(120)
class HttpRealClientsTest {
    private static Path root;
    private static byte[] file;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createTempDirectory("http-clients");
        file = new byte[3 << 20];
        new Random(11).nextBytes(file);
        Files.write(root.resolve("data.bin"), file);
        Files.writeString(root.resolve("digits.txt"), "0123456789\n");
        Files.write(root.resolve("digits.txt.gz"), HttpRfcTest.gzip("0123456789\n".getBytes(StandardCharsets.UTF_8)));
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/index.html"), "<p>sub</p>\n");
        server = new TestServer("--root", root.toString());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        try (var walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Runs a command to completion (bounded), returning stdout; stderr is appended to failure messages. */
    private static String run(String... command) throws Exception {
        String tool = command[0];
        boolean present = new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
        if (System.getenv("CI") != null) {
            assertTrue(present, tool + " is missing, and CI must have it");
        }
        Assumptions.assumeTrue(present, tool + " is not installed");
        Path err = Files.createTempFile("client", ".err");
        Path out = Files.createTempFile("client", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail(String.join(" ", command) + " did not finish within 60 s");
            }
            assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + Files.readString(err));
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        } finally {
            Files.deleteIfExists(err);
            Files.deleteIfExists(out);
        }
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + server.port + path;
    }

    @Test
    void curlGetHeadFileEchoAnd404() throws Exception {
        assertEquals("Hello, World!|200", run("curl", "-sS", "--max-time", "20", "-w", "|%{http_code}",
                url("/_epoll4j/plaintext")));
        String head = run("curl", "-sS", "--max-time", "20", "-I", url("/_epoll4j/plaintext"));
        assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
        assertTrue(head.contains("\r\nContent-Length: 13\r\n"), head);
        Path got = Files.createTempFile("curl", ".bin");
        try {
            run("curl", "-sS", "--max-time", "20", "-o", got.toString(), url("/data.bin"));
            assertArrayEquals(file, Files.readAllBytes(got));
            // Over 1 kB, so curl sends Expect: 100-continue; under the 1 MiB body limit.
            byte[] small = java.util.Arrays.copyOf(file, 600_000);
            Path body = Files.write(root.resolve("body.bin"), small);
            run("curl", "-sS", "--max-time", "20", "-o", got.toString(), "--data-binary", "@" + body, url("/_epoll4j/echo"));
            assertArrayEquals(small, Files.readAllBytes(got));
        } finally {
            Files.deleteIfExists(got);
        }
        assertEquals("404", run("curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}",
                url("/missing.txt")));
        assertEquals("400", run("curl", "-sS", "--max-time", "20", "--path-as-is", "-o", "/dev/null", "-w",
                "%{http_code}", url("/../etc/passwd")));
        // Several URLs on one curl: it reuses the connection (keep-alive).
        String two = run("curl", "-sS", "--max-time", "20", "-w", "|%{num_connects}\n", url("/_epoll4j/plaintext"),
                url("/_epoll4j/plaintext"));
        assertEquals("Hello, World!|1\nHello, World!|0\n", two);
    }

    @Test
    void curlResumesADownloadWithRangeAndFollowsTheDirectoryRedirect() throws Exception {
        Path got = Files.createTempFile("curl-resume", ".bin");
        try {
            Files.write(got, java.util.Arrays.copyOf(file, 1_000_000)); // an interrupted download
            String code = run("curl", "-sS", "--max-time", "20", "-C", "-", "-o", got.toString(), "-w",
                    "%{http_code}", url("/data.bin"));
            assertEquals("206", code);
            assertArrayEquals(file, Files.readAllBytes(got), "resumed byte-exact");
            assertEquals("0123", new String(java.util.Arrays.copyOf(
                    run("curl", "-sS", "--max-time", "20", "-r", "0-3", url("/digits.txt")).getBytes(
                            StandardCharsets.ISO_8859_1), 4), StandardCharsets.ISO_8859_1));
            String gz = run("curl", "-sS", "--max-time", "20", "--compressed", "-D", "-", url("/digits.txt"));
            assertTrue(gz.contains("Content-Encoding: gzip\r\n"), gz);
            assertTrue(gz.endsWith("0123456789\n"), "curl decoded the .gz sibling: " + gz);
            assertEquals("<p>sub</p>\n|200|1", run("curl", "-sS", "--max-time", "20", "-L", "-w",
                    "|%{http_code}|%{num_redirects}", url("/sub")));
        } finally {
            Files.deleteIfExists(got);
        }
    }

    /** curl -r with several ranges: a multipart/byteranges body with one part per range, byte-exact. */
    @Test
    void curlGetsSeveralRangesAsMultipartByteranges() throws Exception {
        String out = run("curl", "-sS", "--max-time", "20", "-r", "0-1,4-5", "-w", "|%{http_code}|%{content_type}",
                url("/digits.txt"));
        Matcher m = Pattern.compile("multipart/byteranges; boundary=(\\S+)$").matcher(out);
        assertTrue(m.find(), out);
        String b = m.group(1);
        assertEquals("--" + b + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/11\r\n\r\n"
                + "01\r\n"
                + "--" + b + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 4-5/11\r\n\r\n"
                + "45\r\n"
                + "--" + b + "--\r\n"
                + "|206|multipart/byteranges; boundary=" + b, out);
        // a sendfile'd file: each part's bytes exact
        String big = run("curl", "-sS", "--max-time", "20", "-r", "1000-1009,2000000-2000009", url("/data.bin"));
        byte[] got = big.getBytes(StandardCharsets.ISO_8859_1); // run() read it as ISO-8859-1: one char a byte
        String text = big;
        int first = text.indexOf("Content-Range: bytes 1000-1009/" + file.length + "\r\n\r\n");
        int second = text.indexOf("Content-Range: bytes 2000000-2000009/" + file.length + "\r\n\r\n");
        assertTrue(first > 0 && second > first, text.length() + " bytes");
        int at1 = text.indexOf("\r\n\r\n", first) + 4;
        int at2 = text.indexOf("\r\n\r\n", second) + 4;
        assertArrayEquals(java.util.Arrays.copyOfRange(file, 1000, 1010),
                java.util.Arrays.copyOfRange(got, at1, at1 + 10));
        assertArrayEquals(java.util.Arrays.copyOfRange(file, 2_000_000, 2_000_010),
                java.util.Arrays.copyOfRange(got, at2, at2 + 10));
        assertTrue(text.endsWith("--\r\n"), "the close delimiter ends the body");
    }

    @Test
    void wrkRunsWithoutSocketErrors() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t1", "-c10", "-d1s", url("/_epoll4j/plaintext")));
        String out = run(cmd.toArray(new String[0]));
        Matcher m = Pattern.compile("(\\d+) requests in").matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Long.parseLong(m.group(1)) > 0, out);
        assertFalse(out.contains("Socket errors"), out);
        assertFalse(out.contains("Non-2xx"), out);
    }
}
