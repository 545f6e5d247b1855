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
import java.util.concurrent.locks.LockSupport;
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
        java.io.StringWriter out = new java.io.StringWriter();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        java.io.Writer watching = new java.io.Writer() {
            @Override
            public void write(char[] cbuf, int off, int len) {
                synchronized (out) {
                    out.write(cbuf, off, len);
                    Matcher m = LISTENING.matcher(out.toString());
                    if (m.find() && out.toString().indexOf('\n', m.end()) >= 0) {
                        port.complete(Integer.parseInt(m.group(2)));
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        picocli.CommandLine cl = new picocli.CommandLine(echo);
        cl.setOut(new java.io.PrintWriter(watching, true));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(
                "--port", "0", "--reactors", "2", "--accept", accept));
        int clients = 6;
        List<Socket> sockets = new ArrayList<>();
        try {
            int p = port.get(30, TimeUnit.SECONDS);
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
            echo.stop.countDown();
            // Stopping closes the connections gracefully: every client sees EOF.
            for (Socket s : sockets) {
                assertEquals(-1, s.getInputStream().read(), "EOF after the graceful stop");
                s.close();
            }
        }
        assertEquals(0, exit.get(30, TimeUnit.SECONDS));
        String all;
        synchronized (out) {
            all = out.toString();
        }
        assertTrue(all.contains("echo: stopped; " + clients + " connections, "), all);
    }

    @Test
    void subprocessEchoesAndStopsCleanlyOnSigterm() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "echo", "--port", "0", "--trigger", "edge"));
        // stdout goes to a file: reading a pipe after the process exits races the JDK's draining of it.
        Path stdout = Files.createTempFile("echo", ".out");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String first = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (first == null) { // observing the child: poll its output with a deadline
                List<String> out = Files.readAllLines(stdout);
                if (!out.isEmpty() && Files.readString(stdout).contains("\n")) {
                    first = out.get(0);
                } else {
                    assertTrue(p.isAlive(), "echo exited early with " + (p.isAlive() ? 0 : p.exitValue()));
                    assertTrue(System.nanoTime() < deadline, "no 'listening on' line within 30 s");
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll interval, not a sync point
                }
            }
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
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            p.getOutputStream().close();
            p.getInputStream().close();
            Files.deleteIfExists(stdout);
        }
    }
}
