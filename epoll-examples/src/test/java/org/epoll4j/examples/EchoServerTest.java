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
                {"--reactors", "0"}};
        String[] says = {"Unknown option: '--bogus'", "Missing required parameter for option '--port'",
                "--port must be 0..65535: 70000", "Invalid value for option '--port': 'x' is not an int",
                "'sideways' is not edge or level", "--reactors must be 1..1024: 0"};
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

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"reuseport", "exclusive", "handoff"})
    void twoReactorsEchoUnderEveryAcceptStrategy(String accept) throws Exception {
        EchoServer echo = new EchoServer();
        echo.stop = new java.util.concurrent.CountDownLatch(1);
        ServerUnderTest server = ServerUnderTest.start(echo, echo.stop,
                "--port", "0", "--reactors", "2", "--accept", accept);
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

    @Test
    void subprocessEchoesAndStopsCleanlyOnSigterm() throws Exception {
        try (ChildJvm child = ChildJvm.start("echo", "--port", "0", "--trigger", "edge")) {
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
}
