package org.epoll4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The echo example: options, and the server run as a subprocess (echo, SIGTERM summary). */
@Timeout(60)
class EchoServerTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    private static final class Captured {
        final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

        String out() {
            return outBytes.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void helpPrintsUsageAndExitsZero() throws Exception {
        Captured c = new Captured();
        assertEquals(0, Main.run(new String[] {"echo", "--help"}, c.out, c.err));
        assertTrue(c.out().startsWith("Usage: java -jar epoll-examples.jar echo"), c.out());
        assertTrue(c.out().contains("--port=PORT") && c.out().contains("--trigger=MODE")
                && c.out().contains("--reactors=N"), c.out());
        assertEquals("", c.err());
    }

    @Test
    void badOptionsExitTwoWithAMessage() throws Exception {
        String[][] bad = {{"--bogus"}, {"--port"}, {"--port", "70000"}, {"--port", "x"}, {"--trigger", "sideways"},
                {"--reactors", "0"}, {"--on-reactor"}};
        String[] says = {"Unknown option: '--bogus'", "Missing required parameter for option '--port'",
                "--port must be 0..65535: 70000", "Invalid value for option '--port': 'x' is not an int",
                "'sideways' is not edge or level", "--reactors must be 1..1024: 0", "--on-reactor needs --blocking"};
        for (int i = 0; i < bad.length; i++) {
            String[] args = new String[bad[i].length + 1];
            args[0] = "echo";
            System.arraycopy(bad[i], 0, args, 1, bad[i].length);
            Captured c = new Captured();
            assertEquals(2, Main.run(args, c.out, c.err), String.join(" ", args));
            assertTrue(c.err().contains(says[i]), c.err());
            assertEquals("", c.out());
        }
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> strategiesAndModes() {
        return java.util.stream.Stream.of("reuseport", "exclusive", "handoff").flatMap(a -> modes()
                .map(b -> org.junit.jupiter.params.provider.Arguments.of(a, b)));
    }

    /**
     * The example's modes: {@code callbacks}, {@code blocking} (straight-line code on virtual threads of the JDK's
     * scheduler) and, where the JVM has it (Java 24+), {@code on-reactor} (those threads carried by the reactor).
     */
    static java.util.stream.Stream<String> modes() {
        return org.epoll4j.net.BlockingService.onReactorThreadAvailable()
                ? java.util.stream.Stream.of("callbacks", "blocking", "on-reactor")
                : java.util.stream.Stream.of("callbacks", "blocking");
    }

    /** {@code args}, with what selects {@code mode} appended. */
    static String[] args(String mode, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        switch (mode) {
            case "callbacks":
                break;
            case "blocking":
                all.add("--blocking");
                break;
            case "on-reactor":
                all.add("--blocking");
                all.add("--on-reactor");
                break;
            default:
                throw new IllegalArgumentException(mode);
        }
        return all.toArray(new String[0]);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}, {1}")
    @org.junit.jupiter.params.provider.MethodSource("strategiesAndModes")
    void twoReactorsEchoUnderEveryAcceptStrategy(String accept, String mode) throws Exception {
        EchoServer echo = new EchoServer();
        echo.stop = new java.util.concurrent.CountDownLatch(1);
        ServerUnderTest server = ServerUnderTest.start(echo, echo.stop,
                args(mode, "--port", "0", "--reactors", "2", "--accept", accept));
        int clients = 6;
        List<Socket> sockets = new ArrayList<>();
        try {
            int p = server.port();
            for (int i = 0; i < clients; i++) {
                Socket s = new Socket("127.0.0.1", p);
                s.setSoTimeout(10_000);
                sockets.add(s);
            }
            for (int i = 0; i < clients; i++) {
                byte[] msg = ("message " + i + " via " + accept).getBytes(StandardCharsets.US_ASCII);
                sockets.get(i).getOutputStream().write(msg);
                assertArrayEquals(msg, sockets.get(i).getInputStream().readNBytes(msg.length));
            }
        } finally {
            server.requestStop();
            // Stopping closes the connections gracefully: every client sees EOF.
            for (Socket s : sockets) {
                assertEquals(-1, s.getInputStream().read(), "EOF after the graceful stop");
                s.close();
            }
        }
        assertEquals(0, server.awaitExit());
        String all = server.output();
        assertTrue(all.contains("echo: stopped; " + clients + " connections, "), all);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("modes")
    void subprocessEchoesAndStopsCleanlyOnSigterm(String mode) throws Exception {
        try (ChildJvm child = ChildJvm.start("echo", args(mode, "--port", "0", "--trigger", "edge"))) {
            Process p = child.process();
            Path stdout = child.stdout();
            String first = child.firstLine();
            Matcher m = LISTENING.matcher(String.valueOf(first));
            assertTrue(m.matches(), "first line: " + first);
            assertEquals("127.0.0.1", m.group(1));
            int port = Integer.parseInt(m.group(2));

            byte[] payload = new byte[200_000];
            new Random(3).nextBytes(payload);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                s.setSoTimeout(10_000);
                CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                    try {
                        return s.getInputStream().readNBytes(payload.length);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                s.getOutputStream().write(payload);
                assertArrayEquals(payload, echoed.get(20, TimeUnit.SECONDS));
            }

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exits after SIGTERM");
            assertEquals(143, p.exitValue(), "the JVM's status for a SIGTERM it handled (128 + 15)");
            List<String> all = Files.readAllLines(stdout);
            List<String> rest = all.subList(1, all.size());
            assertEquals(List.of("echo: stopped; 1 connections, " + payload.length + " bytes echoed"), rest);
        }
    }

    /**
     * Hostile clients against both modes: one writes megabytes and never reads its echoes (the server must stop
     * reading from it, not buffer without bound), one resets mid-stream; a well-behaved client is served meanwhile.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("modes")
    void aClientThatNeverReadsOrResetsDoesNotHurtOthers(String mode) throws Exception {
        EchoServer echo = new EchoServer();
        echo.stop = new java.util.concurrent.CountDownLatch(1);
        ServerUnderTest server = ServerUnderTest.start(echo, echo.stop, args(mode, "--port", "0"));
        try {
            int p = server.port();
            try (java.nio.channels.SocketChannel hog = java.nio.channels.SocketChannel.open(
                    new InetSocketAddress("127.0.0.1", p))) {
                hog.configureBlocking(false);
                java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(64 * 1024);
                long sent = 0;
                // Write until the socket stays full: a second with no room means the server stopped reading.
                try (java.nio.channels.Selector writable = java.nio.channels.Selector.open()) {
                    hog.register(writable, java.nio.channels.SelectionKey.OP_WRITE);
                    while (sent < (256L << 20)) {
                        chunk.clear();
                        int n = hog.write(chunk);
                        sent += n;
                        if (n == 0) {
                            if (writable.select(1000) == 0) {
                                break;
                            }
                            writable.selectedKeys().clear();
                        }
                    }
                }
                assertTrue(sent < (256L << 20), "the server kept reading from a client that never reads: " + sent);

                try (Socket reset = new Socket("127.0.0.1", p)) {
                    reset.getOutputStream().write(new byte[100_000]);
                    reset.setSoLinger(true, 0); // close with RST
                }
                try (Socket s = new Socket("127.0.0.1", p)) {
                    s.setSoTimeout(10_000);
                    byte[] msg = "still served".getBytes(StandardCharsets.US_ASCII);
                    s.getOutputStream().write(msg);
                    assertArrayEquals(msg, s.getInputStream().readNBytes(msg.length));
                }
            }
        } finally {
            server.requestStop();
        }
        assertEquals(0, server.awaitExit(), server::output);
    }
}
