package org.epoll4j.examples.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The http program's protocol behaviour, driven by raw sockets: routes, keep-alive, pipelining, files, errors. */
@Timeout(60)
class HttpServerTest {
    private static final String GET_PLAIN = "GET /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    private static Path root;
    private static byte[] big;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createTempDirectory("http-root");
        big = new byte[1 << 20];
        long seed = 8;
        System.out.println("random seed " + seed);
        new Random(seed).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.writeString(root.resolve("page.html"), "<p>page</p>\n");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<p>docs index</p>\n");
        Files.createDirectories(root.resolve("empty-dir"));
        Files.write(root.resolve("empty.txt"), new byte[0]);
        Files.setLastModifiedTime(root.resolve("page.html"), FileTime.fromMillis(784_111_777_000L));
        server = new TestServer("--root", root.toString());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static RawClient client() throws Exception {
        return new RawClient(server.port);
    }

    @Test
    void plaintextAnswersHelloWorldAsTextPlain() throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send(GET_PLAIN).read();
            assertEquals(200, r.status());
            assertEquals("Hello, World!", r.text());
            assertEquals("text/plain", r.header("Content-Type"));
            assertEquals("13", r.header("Content-Length"));
            assertEquals("epoll4j", r.header("Server"));
            assertTrue(r.header("Date").matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"),
                    r.header("Date"));
            assertNull(r.header("Connection"), "HTTP/1.1 is persistent by default");
        }
    }

    @Test
    void withoutRootTheBuiltInsAnswerEverywhereWithRootOnlyUnderTheirPrefix() throws Exception {
        try (TestServer bare = new TestServer(); RawClient c = new RawClient(bare.port)) {
            assertEquals("Hello, World!", c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            assertEquals("Hello, World!", c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            assertEquals("Hello, World!", c.send(GET_PLAIN).read().text());
            assertEquals(404, c.send("GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertEquals(200, c.send(GET_PLAIN).read().status(), "a 404 keeps the connection");
        }
        try (RawClient c = client()) {
            assertEquals(403, c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().status(),
                    "the root has no index.html: its answer, not the built-in hello");
            assertEquals(404, c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().status(),
                    "no file of that name");
        }
        Path dir = Files.createTempDirectory("http-shadow");
        Files.writeString(dir.resolve("plaintext"), "my own file\n");
        Files.writeString(dir.resolve("index.html"), "<p>home</p>\n");
        try (TestServer s = new TestServer("--root", dir.toString()); RawClient c = new RawClient(s.port)) {
            assertEquals("my own file\n", c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().text(),
                    "a built-in route does not hide a file");
            assertEquals("<p>home</p>\n", c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            assertEquals("Hello, World!", c.send(GET_PLAIN).read().text());
        } finally {
            Files.delete(dir.resolve("plaintext"));
            Files.delete(dir.resolve("index.html"));
            Files.delete(dir);
        }
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        try (RawClient c = client()) {
            for (int i = 0; i < 50; i++) {
                assertEquals("Hello, World!", c.send(GET_PLAIN).read().text(), "request " + i);
            }
        }
    }

    @Test
    void pipelinedRequestsInOneWriteGetResponsesInOrder() throws Exception {
        try (RawClient c = client()) {
            c.send(GET_PLAIN + "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n");
            RawClient.Response a = c.read();
            RawClient.Response b = c.read();
            RawClient.Response d = c.read();
            assertEquals("Hello, World!", a.text());
            assertEquals(404, b.status());
            assertEquals("<p>page</p>\n", d.text());
            // And a file between two small responses: sendfile is queued in order with the writes.
            c.send(GET_PLAIN + "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n" + GET_PLAIN);
            assertEquals("Hello, World!", c.read().text());
            assertArrayEquals(big, c.read().body());
            assertEquals("Hello, World!", c.read().text());
        }
    }

    @Test
    void pipelinedRequestsSplitAnywhereStillParse() throws Exception {
        byte[] all = (GET_PLAIN + "HEAD /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\n\r\n" + GET_PLAIN)
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int cut = 1; cut < all.length; cut += 7) {
            try (RawClient c = client()) {
                c.send(java.util.Arrays.copyOfRange(all, 0, cut));
                c.send(java.util.Arrays.copyOfRange(all, cut, all.length));
                assertEquals("Hello, World!", c.read().text(), "cut at " + cut);
                RawClient.Response head = c.read(true);
                assertEquals("13", head.header("Content-Length"));
                assertEquals("Hello, World!", c.read().text(), "cut at " + cut);
            }
        }
    }

    @Test
    void levelTriggerAndSeveralReactorsServeTheSame() throws Exception {
        for (String[] args : new String[][] {{"--trigger", "level"}, {"--reactors", "2"}}) {
            try (TestServer other = new TestServer(args[0], args[1], "--root", root.toString())) {
                for (int i = 0; i < 3; i++) {
                    try (RawClient c = new RawClient(other.port)) {
                        c.send(GET_PLAIN + "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n" + GET_PLAIN);
                        assertEquals("Hello, World!", c.read().text());
                        assertArrayEquals(big, c.read().body());
                        assertEquals("Hello, World!", c.read().text());
                        assertEquals(400, c.send("BAD\r\n\r\n").read().status());
                        assertTrue(c.atEof());
                    }
                }
            }
        }
    }

    @Test
    void http10ClosesUnlessKeepAliveAsked() throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send("GET /_epoll4j/plaintext HTTP/1.0\r\n\r\n").read();
            assertEquals("Hello, World!", r.text());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.atEof());
        }
        try (RawClient c = client()) {
            for (int i = 0; i < 3; i++) {
                RawClient.Response r = c.send("GET /_epoll4j/plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();
                assertEquals("Hello, World!", r.text());
                assertEquals("keep-alive", r.header("Connection"));
            }
        }
    }

    @Test
    void connectionCloseIsHonouredAfterTheResponse() throws Exception {
        try (RawClient c = client()) {
            c.send("GET /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + GET_PLAIN);
            RawClient.Response r = c.read();
            assertEquals("Hello, World!", r.text());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.atEof(), "the pipelined request after 'close' is not answered");
        }
    }

    @Test
    void headHasTheHeadersButNoBody() throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertEquals(200, r.status());
            assertEquals(String.valueOf(big.length), r.header("Content-Length"));
            assertEquals("application/octet-stream", r.header("Content-Type"));
            assertNotNull(r.header("Last-Modified"));
            // The next response must follow the head directly: no body bytes in between.
            assertEquals("Hello, World!", c.send(GET_PLAIN).read().text());
        }
    }

    @Test
    void aMegabyteFileGoesOutByteExactWithTypeLengthAndLastModified() throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(200, r.status());
            assertArrayEquals(big, r.body());
            RawClient.Response p = c.send("GET /page.html?cache=no HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals("text/html; charset=utf-8", p.header("Content-Type"));
            assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", p.header("Last-Modified"));
            RawClient.Response e = c.send("GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(200, e.status());
            assertEquals("0", e.header("Content-Length"));
            assertEquals("Hello, World!", c.send(GET_PLAIN).read().text());
        }
    }

    @Test
    void ifModifiedSinceGives304WhenNotNewer() throws Exception {
        try (RawClient c = client()) {
            String req = "GET /page.html HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: %s\r\n\r\n";
            RawClient.Response same = c.send(String.format(req, "Sun, 06 Nov 1994 08:49:37 GMT")).read();
            assertEquals(304, same.status());
            assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", same.header("Last-Modified"));
            assertNull(same.header("Content-Length"));
            assertEquals(304, c.send(String.format(req, "Mon, 07 Nov 1994 00:00:00 GMT")).read().status());
            assertEquals(200, c.send(String.format(req, "Sun, 06 Nov 1994 08:49:36 GMT")).read().status());
            assertEquals(200, c.send(String.format(req, "not a date")).read().status(), "ignored");
            assertEquals(304, c.send(String.format(req, "Sunday, 06-Nov-94 08:49:37 GMT")).read().status(),
                    "RFC 850 form");
            assertEquals(304, c.send(String.format(req, "Sun Nov  6 08:49:37 1994")).read().status(), "asctime");
            assertEquals(200, c.send(String.format(req, "Fri, 01 Jan 9999 00:00:00 GMT")).read().status(),
                    "a date in the future is ignored (RFC 9110 13.1.3)");
        }
    }

    @Test
    void directoriesServeTheirIndexOr403AndRedirectWithoutTheSlash() throws Exception {
        try (RawClient c = client()) {
            assertEquals("<p>docs index</p>\n", c.send("GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n").read().text());
            RawClient.Response moved = c.send("GET /docs?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(301, moved.status(), "relative links need the slash");
            assertEquals("/docs/?x=1", moved.header("Location"));
            assertEquals(301, c.send("HEAD /empty-dir HTTP/1.1\r\nHost: x\r\n\r\n").read(true).status());
            assertEquals(403, c.send("GET /empty-dir/ HTTP/1.1\r\nHost: x\r\n\r\n").read().status(),
                    "no index, no listing: 403 as nginx without autoindex");
            assertEquals(404, c.send("GET /page.html/ HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }

    @Test
    void otherMethodsGet405WithAllow() throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send("DELETE /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("Allow"));
            r = c.send("PUT /page.html HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").read();
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("Allow"));
            r = c.send("GET /_epoll4j/echo HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(405, r.status());
            assertEquals("POST", r.header("Allow"));
            assertEquals("Hello, World!", c.send(GET_PLAIN).read().text(), "405 keeps the connection and the body"
                    + " of the PUT was skipped");
        }
    }

    @Test
    void echoReturnsTheBodyAndBodiesAreSkippedForKeepAlive() throws Exception {
        byte[] body = new byte[300_000];
        new Random(9).nextBytes(body);
        try (RawClient c = client()) {
            c.send("POST /_epoll4j/echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(java.util.Arrays.copyOfRange(body, 0, 1000));
            c.send(java.util.Arrays.copyOfRange(body, 1000, body.length));
            RawClient.Response r = c.read();
            assertEquals(200, r.status());
            assertArrayEquals(body, r.body());
            // A GET with a body: the body is read and discarded, the pipelined request after it is answered.
            c.send("GET /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nGET /x" + GET_PLAIN);
            assertEquals("Hello, World!", c.read().text());
            assertEquals("Hello, World!", c.read().text());
        }
    }

    @Test
    void expectContinueGets100BeforeTheBody() throws Exception {
        try (RawClient c = client()) {
            c.send("POST /_epoll4j/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
            RawClient.Response cont = c.read();
            assertEquals(100, cont.status());
            assertEquals("abc", c.send("abc").read().text());
        }
    }

    @Test
    void errorStatusesForRawRequests() throws Exception {
        assertFatal("GARBAGE\r\n\r\n", 400);
        assertFatal("GET /plaintext HTTP/1.1\r\n\r\n", 400); // no Host in HTTP/1.1
        assertFatal("GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
        assertFatal("GET plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400);
        assertFatal("GET /plaintext HTTP/2.0\r\nHost: x\r\n\r\n", 505);
        assertFatal("GET /plaintext HTTP/3.0\r\nHost: x\r\n\r\n", 505);
        assertFatal("GET /plaintext HTTP/0.9\r\nHost: x\r\n\r\n", 505);
        assertFatal("GET /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", 413);
        assertFatal("GET /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
        assertFatal("POST /_epoll4j/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
        assertFatal("GET /plaintext HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417);
        try (RawClient c = client()) {
            assertEquals(404, c.send("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertEquals(405, c.send("POST /_epoll4j/plaintext HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertEquals(200, c.send(GET_PLAIN).read().status());
        }
    }

    @Test
    void smugglingSignsGet400AndTheConnectionCloses() throws Exception {
        String h = "POST /_epoll4j/echo HTTP/1.1\r\nHost: x\r\n";
        String[] bad = {
            h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
            h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
            h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            h + "Content-Length: 3, 4\r\n\r\nabcd",
            h + "Content-Length: 3, 3\r\n\r\nabc",
            h + "Content-Length: +3\r\n\r\nabc",
            h + "Content-Length: -1\r\n\r\n",
            h + "Content-Length: 0x3\r\n\r\nabc",
            h + "Content-Length: 3 3\r\n\r\nabc",
            h + "Content-Length:\r\n\r\n",
            h + "Content-Length : 3\r\n\r\nabc",
            h + " Content-Length: 3\r\n\r\nabc",
            h + "X-Folded: a\r\n b\r\nContent-Length: 3\r\n\r\nabc",
            h + "Content-Length: 3\nX: y\r\n\r\nabc",
            h + "Content-Length: 3\rX: y\r\n\r\nabc",
            "GET /plaintext HTTP/1.1\nHost: x\n\n",
            "GET /plaintext HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n",
            "GET /plain text HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET  /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /plaintext  HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /plaintext HTTP/1.1 \r\nHost: x\r\n\r\n",
            "GET /plaintext http/1.1\r\nHost: x\r\n\r\n",
        };
        for (String req : bad) {
            assertFatal(req, 400);
        }
        // Repeated identical Content-Lengths are one value (RFC 9112 6.3): accepted.
        try (RawClient c = client()) {
            RawClient.Response r = c.send(h + "Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc").read();
            assertEquals("abc", r.text());
        }
    }

    /** Sends {@code request}, expects {@code status} with Connection: close, then EOF. */
    private static void assertFatal(String request, int status) throws Exception {
        try (RawClient c = client()) {
            RawClient.Response r = c.send(request).read();
            String shown = request.replace("\r", "\\r").replace("\n", "\\n").replace("\u0000", "\\0");
            assertEquals(status, r.status(), shown);
            assertEquals("close", r.header("Connection"), shown);
            assertTrue(c.atEof(), "closed after " + status + ": " + shown);
        }
    }
}
