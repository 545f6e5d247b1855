package org.epoll4j.readme;

import org.epoll4j.ReactorGroup;
import org.epoll4j.net.TcpServerGroup;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guide's offload example: shown verbatim in docs/guide.md, and run against real sockets. */
@Timeout(60)
class GuideOffloadExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/org/epoll4j/readme/GuideOffloadExample.java");

    @Test
    void theGuideShowsThisExample() throws Exception {
        String source = Files.readString(SOURCE);
        String example = source.substring(source.indexOf("// GUIDE-BEGIN\n") + "// GUIDE-BEGIN\n".length(),
                source.indexOf("// GUIDE-END"));
        assertTrue(Files.readString(Path.of("../docs/guide.md")).contains("```java\n" + example + "```\n"),
                "docs/guide.md's offload example differs from " + SOURCE + "; copy the code between the markers");
    }

    private static Socket connect(TcpServerGroup server) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
        return s;
    }

    @Test
    void pipelinedHalfClosingClientsGetEveryReplyInOrderAndShutdownIsGraceful() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ReactorGroup group = ReactorGroup.builder().size(2).name(ThreadLeakCheck.REACTOR_PREFIX + "guide").build();
        try {
            TcpServerGroup server = GuideOffloadExample.start(group, pool, 0);
            // 500 pipelined requests with PINGs among them, an overlong line, then FIN: every reply, in order.
            StringBuilder requests = new StringBuilder();
            StringBuilder replies = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                if (i % 10 == 0) {
                    requests.append("PING\n");
                    replies.append("PONG\n");
                }
                requests.append("req ").append(i).append('\n');
                replies.append("REQ ").append(i).append('\n');
            }
            requests.append("x".repeat(2000)).append('\n').append("last\n");
            replies.append("ERR line too long\nLAST\n");
            try (Socket s = connect(server)) {
                CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        out.write(requests.toString().getBytes(StandardCharsets.US_ASCII));
                        s.shutdownOutput();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertEquals(replies.toString(), new String(s.getInputStream().readAllBytes(),
                        StandardCharsets.US_ASCII), "every reply in order, then EOF");
                sent.get(30, TimeUnit.SECONDS);
            }
            // Graceful shutdown with requests in flight: they are answered, then the connection closes.
            try (Socket s = connect(server)) {
                s.getOutputStream().write("a\nb\nc\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                assertEquals("A\n", new String(s.getInputStream().readNBytes(2), StandardCharsets.US_ASCII));
                group.shutdownGracefully(Duration.ofMillis(50), Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
                assertEquals("B\nC\n", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
                assertEquals(0, server.offloadResultsDropped());
            }
        } finally {
            group.close();
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }
}
