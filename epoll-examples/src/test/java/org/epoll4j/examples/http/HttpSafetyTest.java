package org.epoll4j.examples.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the http program must never do: serve outside --root, buffer past the header limit, wait forever, keep reading
 * a client that does not read its responses.
 */
@Timeout(60)
class HttpSafetyTest {
    private static final String SECRET = "TOP-SECRET-CONTENT";
    private static Path base;
    private static Path root;
    private static Path secret;

    @BeforeAll
    static void files() throws Exception {
        base = Files.createTempDirectory("http-safety");
        root = Files.createDirectories(base.resolve("root"));
        secret = base.resolve("secret.txt");
        Files.writeString(secret, SECRET);
        Files.writeString(root.resolve("page.html"), "<p>page</p>");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/a.txt"), "a");
        Files.createSymbolicLink(root.resolve("link-out"), secret);
        Files.createSymbolicLink(root.resolve("dir-out"), base);
        Files.createSymbolicLink(root.resolve("link-in"), root.resolve("page.html"));
    }

    @AfterAll
    static void clean() throws Exception {
        try (var walk = Files.walk(base)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void nothingOutsideTheRootIsEverServed() throws Exception {
        List<String> targets = List.of(
                "/../secret.txt", "/..%2fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                "/%2e%2e%2fsecret.txt", "/.%2e/secret.txt", "/%2e./secret.txt", "/..%5csecret.txt", "/..\\secret.txt",
                "/docs/../../secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt", "//../secret.txt", "/./../secret.txt",
                "/%252e%252e/secret.txt", "/..;/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/%2e%2e%00/secret.txt",
                "/page.html%00.txt", "/%00", "/%zz", "/%2", "/.", "/docs/.",
                "http://x/../secret.txt", "http://x/%2e%2e/secret.txt", "HTTP://x/..%2fsecret.txt",
                "http:/../secret.txt", "file:///" + secret, secret.toString(), "//" + secret, "*", "x/../secret.txt",
                "/link-out", "/dir-out/secret.txt", "/dir-out/", "/dir-out/root/../secret.txt");
        try (TestServer server = new TestServer("--root", root.toString())) {
            for (String target : targets) {
                try (RawClient c = new RawClient(server.port)) {
                    c.send("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    String all = new String(c.readToEof(), StandardCharsets.ISO_8859_1);
                    assertFalse(all.contains(SECRET), target + " served the secret: " + all);
                    assertTrue(all.startsWith("HTTP/1.1 "), target + ": " + all);
                    int status = Integer.parseInt(all.substring(9, 12));
                    assertTrue(Set.of(400, 403, 404).contains(status), target + " -> " + status);
                }
            }
            try (RawClient c = new RawClient(server.port)) {
                assertEquals("<p>page</p>", c.send("GET /link-in HTTP/1.1\r\nHost: x\r\n\r\n").read().text(),
                        "a symlink that stays inside the root is served");
                assertEquals("a", c.send("GET /docs/%61.txt HTTP/1.1\r\nHost: x\r\n\r\n").read().text(),
                        "percent-escapes of ordinary characters are decoded");
            }
        }
    }

    @Test
    void aHeadOverTheLimitGets431AndTheBufferStaysWithinIt() throws Exception {
        try (TestServer server = new TestServer("--max-header-bytes", "1024")) {
            // In one write: 200 kB of header bytes.
            try (RawClient c = new RawClient(server.port)) {
                c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(200_000));
                RawClient.Response r = c.read();
                assertEquals(431, r.status());
                assertEquals("close", r.header("Connection"));
                assertTrue(c.atEof());
            }
            // Trickled in small writes, so the partial head is kept between reads.
            try (RawClient c = new RawClient(server.port)) {
                c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n");
                for (int i = 0; i < 60; i++) {
                    c.send("X-Line-" + i + ": " + "v".repeat(20) + "\r\n");
                }
                assertEquals(431, c.read().status());
                assertTrue(c.atEof());
            }
            int largest = server.largestHeaderBuffer();
            assertTrue(largest > 0 && largest <= 1024, "partial-head buffer grew to " + largest);
            // The limit is inclusive: a head of exactly 1024 bytes is fine, one more byte is not.
            String start = "GET /plaintext HTTP/1.1\r\nHost: x\r\nX: ";
            String exact = start + "p".repeat(1024 - start.length() - 4) + "\r\n\r\n";
            assertEquals(1024, exact.length());
            try (RawClient c = new RawClient(server.port)) {
                assertEquals(200, c.send(exact).read().status());
                assertEquals(200, c.send(exact.substring(0, 500)).send(exact.substring(500)).read().status());
                String over = start + "p".repeat(1025 - start.length() - 4) + "\r\n\r\n";
                assertEquals(431, c.send(over).read().status());
            }
            assertTrue(server.largestHeaderBuffer() <= 1024);
        }
    }

    @Test
    void aClientTricklingItsHeadIsTimedOut() throws Exception {
        try (TestServer server = new TestServer("--header-timeout-ms", "200")) {
            long t0 = System.nanoTime();
            try (RawClient c = new RawClient(server.port)) {
                c.send("GET /plaintext HTTP/1.1\r\n");
                AtomicBoolean stop = new AtomicBoolean();
                OutputStream out = c.socket.getOutputStream();
                Thread trickler = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            out.write('X'); // one header byte at a time, never the end of the head
                            out.flush();
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing, not a sync point
                        }
                    } catch (IOException closedByServer) {
                        // expected once the server gives up
                    }
                }, "trickler");
                trickler.start();
                try {
                    RawClient.Response r = c.read();
                    assertEquals(408, r.status());
                    assertTrue(c.atEof(), "closed after the 408");
                } finally {
                    stop.set(true);
                    trickler.join(10_000);
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms >= 200 && ms < 10_000, "closed after " + ms + " ms");
            }
            assertTrue(server.largestHeaderBuffer() <= 8192, "bounded by the default limit");
            // A connection that sends nothing at all is closed silently after the same deadline.
            try (RawClient c = new RawClient(server.port)) {
                assertTrue(c.atEof());
            }
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosed() throws Exception {
        try (TestServer server = new TestServer("--idle-timeout-ms", "200", "--header-timeout-ms", "200");
             RawClient c = new RawClient(server.port)) {
            assertEquals(200, c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertTrue(c.atEof());
        }
    }

    @Test
    void aClientThatPipelinesAndNeverReadsIsStoppedAndDoesNotHurtOthers() throws Exception {
        try (TestServer server = new TestServer();
             java.nio.channels.SocketChannel hog = java.nio.channels.SocketChannel.open(
                     new java.net.InetSocketAddress("127.0.0.1", server.port))) {
            hog.configureBlocking(false);
            java.nio.ByteBuffer request = java.nio.ByteBuffer.wrap(
                    "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n".repeat(256).getBytes(StandardCharsets.US_ASCII));
            long sent = 0;
            long limit = 256L << 20; // far beyond every buffer between the two: the server must stop reading first
            try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
                hog.register(selector, java.nio.channels.SelectionKey.OP_WRITE);
                // Observing the server stop: the hog's socket stays full for 2 s (a bounded poll, not a sync point)
                while (selector.select(2000) > 0) {
                    selector.selectedKeys().clear();
                    for (int n; (n = hog.write(request)) > 0; ) { // whole requests, a partial one continued
                        sent += n;
                        if (!request.hasRemaining()) {
                            request.rewind();
                        }
                    }
                    assertTrue(sent < limit, "the server kept reading a client that never reads: " + sent + " B");
                }
            }
            assertTrue(sent > 0);
            try (RawClient c = new RawClient(server.port)) {
                assertEquals("Hello, World!", c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().text(),
                        "another client is served while the hog is stopped");
            }
            hog.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
            hog.close(); // a reset: the server's blocked responses end with it
            try (RawClient c = new RawClient(server.port)) {
                assertEquals(200, c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            }
        } // TestServer.close: stops with status 0, nothing stuck
    }

    @Test
    void optionsAreValidated() throws Exception {
        String[][] bad = {{"--max-header-bytes", "10"}, {"--header-timeout-ms", "0"}, {"--root", "/nonexistent/x"},
                {"--max-body-bytes", "-1"}};
        for (String[] args : bad) {
            java.io.StringWriter err = new java.io.StringWriter();
            picocli.CommandLine cl = new picocli.CommandLine(new HttpServer());
            cl.setErr(new java.io.PrintWriter(err));
            cl.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
            assertEquals(2, cl.execute(args), String.join(" ", args));
            assertTrue(err.toString().contains(args[0]), err.toString());
        }
    }
}
