package org.epoll4j.readme;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.Reactor;
import org.epoll4j.net.TcpServer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the README's usage example and checks that the README still shows exactly this code. */
class ReadmeExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/org/epoll4j/readme/ReadmeExample.java");
    private static final Path README = Path.of("../README.md");

    @Test
    void readmeShowsTheCompiledExample() throws Exception {
        assertReadmeShows(SOURCE);
    }

    @Test
    void readmeShowsTheCompiledEchoExample() throws Exception {
        assertReadmeShows(Path.of("src/test/java/org/epoll4j/readme/ReadmeEchoExample.java"));
    }

    @Test
    void readmeShowsTheCompiledGroupExample() throws Exception {
        assertReadmeShows(Path.of("src/test/java/org/epoll4j/readme/ReadmeGroupExample.java"));
    }

    @Test
    void groupExampleAnswersInUpperCaseFromThePool() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (org.epoll4j.ReactorGroup group = org.epoll4j.ReactorGroup.builder().size(2)
                .name(org.epoll4j.testutil.ThreadLeakCheck.REACTOR_PREFIX + "readme").build()) {
            org.epoll4j.net.TcpServerGroup server = ReadmeGroupExample.start(group, pool, 0);
            try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                    new java.net.InetSocketAddress("127.0.0.1", server.port()))) {
                ByteBuffer out = ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                ByteBuffer in = ByteBuffer.allocate(4);
                while (in.hasRemaining()) {
                    assertTrue(ch.read(in) > 0);
                }
                assertEquals("PING", new String(in.array(), StandardCharsets.UTF_8));
            } finally {
                server.close();
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void echoExampleEchoes() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            TcpServer server = ReadmeEchoExample.start(reactor, 0);
            try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                    new java.net.InetSocketAddress("127.0.0.1", server.port()))) {
                ByteBuffer out = ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                ByteBuffer in = ByteBuffer.allocate(5);
                while (in.hasRemaining()) {
                    assertTrue(ch.read(in) > 0);
                }
                assertEquals("ping\n", new String(in.array(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void guideShowsTheCompiledTwoStylesExample() throws Exception {
        assertDocShows(Path.of("src/test/java/org/epoll4j/readme/GuideTwoStylesExample.java"),
                Path.of("../docs/guide.md"));
    }

    @Test
    void bothStylesOfTheGuideEcho() throws Exception {
        try (Reactor reactor = Reactor.builder().name("guide-two-styles").build()) {
            reactor.start();
            TcpServer callbacks = GuideTwoStylesExample.callbackEcho(reactor);
            TcpServer blocking = GuideTwoStylesExample.blockingEcho(reactor);
            try {
                for (TcpServer server : java.util.List.of(callbacks, blocking)) {
                    assertEquals("ping", GuideTwoStylesExample.ask(reactor,
                            (java.net.InetSocketAddress) server.localAddress(), "ping"));
                }
            } finally {
                callbacks.close();
                blocking.close();
            }
        }
    }

    private static void assertReadmeShows(Path file) throws Exception {
        assertDocShows(file, README);
    }

    private static void assertDocShows(Path file, Path doc) throws Exception {
        String source = Files.readString(file, StandardCharsets.UTF_8);
        int begin = source.indexOf("// README-BEGIN\n");
        int end = source.indexOf("// README-END");
        assertTrue(begin >= 0 && end > begin, "markers missing in " + file);
        String example = source.substring(begin + "// README-BEGIN\n".length(), end);
        String readme = Files.readString(doc, StandardCharsets.UTF_8);
        assertTrue(readme.contains("```java\n" + example + "```\n"),
                doc + "'s example differs from " + file + "; copy the code between the markers");
    }

    @Test
    void reportsReadableFd() throws Exception {
        int efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        assertTrue(efd >= 0);
        try {
            CompletableFuture<Boolean> readable = ReadmeExample.whenReadable(efd, Duration.ofSeconds(30));
            ByteBuffer one = NativeMemory.allocate(8).putLong(0, 1);
            assertEquals(8, LibC.write(efd, NativeMemory.address(one), 8));
            assertTrue(readable.get(10, TimeUnit.SECONDS));
        } finally {
            LibC.close(efd);
        }
    }

    @Test
    void timesOutOnQuietFd() throws Exception {
        int efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        assertTrue(efd >= 0);
        try {
            assertFalse(ReadmeExample.whenReadable(efd, Duration.ofMillis(20)).get(10, TimeUnit.SECONDS));
        } finally {
            LibC.close(efd);
        }
    }
}
