package org.epoll4j.readme;

import org.epoll4j.Reactor;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.RateLimit;
import org.epoll4j.net.RateLimitGroup;
import org.epoll4j.net.RateLimiter;
import org.epoll4j.net.TcpServer;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the code block of docs/guide.md's "Rate limits" section (an echo server whose clients each read at a limited
 * rate and write within a shared group budget), and checks that the guide shows exactly this code (between
 * {@code // guide:NAME} and {@code // end}).
 */
@org.junit.jupiter.api.Timeout(60)
@ExtendWith(FdLeakCheck.class)
class GuideRateLimitTest {
    private static final Path SELF = Path.of("src/test/java/org/epoll4j/readme/GuideRateLimitTest.java");
    private static final Path GUIDE = Path.of("../docs/guide.md");

    @Test
    void theGuideShowsThisBlock() throws Exception {
        String guide = Files.readString(GUIDE);
        List<String> lines = Files.readAllLines(SELF);
        int blocks = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith("// guide:")) {
                int indent = lines.get(i).indexOf('/');
                StringBuilder block = new StringBuilder();
                for (i++; !lines.get(i).trim().equals("// end"); i++) {
                    String l = lines.get(i);
                    block.append(l.length() >= indent ? l.substring(indent) : l.trim()).append('\n');
                }
                assertTrue(guide.contains("```java\n" + block + "```"), "docs/guide.md lacks:\n" + block);
                blocks++;
            }
        }
        assertEquals(1, blocks);
    }

    @Test
    void rateLimitedEcho() throws Exception {
        byte[] sent = new byte[40_000];
        Arrays.fill(sent, (byte) 'x');
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            TcpServer server = echo(reactor);
            try (SocketChannel ch = SocketChannel.open(server.localAddress())) {
                ch.write(ByteBuffer.wrap(sent));
                ByteBuffer back = ByteBuffer.allocate(sent.length);
                while (back.hasRemaining()) {
                    assertTrue(ch.read(back) >= 0, "EOF before the echo");
                }
                assertArrayEquals(sent, back.array());
            }
            server.close();
        }
    }

    private static TcpServer echo(Reactor reactor) throws Exception {
        // guide:rate
        RateLimitGroup everyone = RateLimitGroup.builder(reactor)
                .write(RateLimit.of(1 << 20, 64 * 1024))          // 1 MiB/s out, shared by all clients
                .tick(Duration.ofMillis(20))
                .build();
        TcpServer server = TcpServer.builder(reactor)
                .handler(new ConnectionHandler() {
                    @Override
                    public void onOpen(Connection c) {
                        c.attach(RateLimiter.builder(c)
                                .read(RateLimit.of(64 * 1024, 16 * 1024)) // each client: 64 KiB/s in
                                .group(everyone)
                                .build());
                    }

                    @Override
                    public void onData(Connection c, ByteBuffer data) {
                        RateLimiter limiter = (RateLimiter) c.attachment();
                        limiter.onRead(data.remaining());        // charge what arrived; may pause reading
                        limiter.write(data);                     // echo: held until tokens allow, in order
                    }
                })
                .start();
        // end
        return server;
    }
}
