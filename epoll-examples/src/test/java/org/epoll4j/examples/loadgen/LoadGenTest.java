package org.epoll4j.examples.loadgen;

import org.epoll4j.Reactor;
import org.epoll4j.examples.Main;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The load generator against the echo example (a child JVM), a corrupting echo server, and bad options. */
@Timeout(90)
class LoadGenTest {
    private static final Pattern RESULT = Pattern.compile("msgs_per_s=(\\d+) p50_us=([\\d.]+) p99_us=([\\d.]+) "
            + "p999_us=([\\d.]+) errors=(\\d+) mean_us=[\\d.]+ max_us=[\\d.]+ msgs=(\\d+) secs=[\\d.]+ conns=(\\d+) "
            + "depth=(\\d+) size=(\\d+)");
    private static final Pattern PROGRESS = Pattern.compile("loadgen: +[\\d.]+s msgs/s=\\d+ p50_us=[\\d.]+ "
            + "p99_us=[\\d.]+ errors=\\d+");

    /** One run of the load generator in this JVM. */
    private record Run(int status, String out, String err) {
        Matcher result() {
            String[] lines = out.strip().split("\n");
            Matcher m = RESULT.matcher(lines[lines.length - 1]);
            assertTrue(m.matches(), "last line: " + lines[lines.length - 1]);
            return m;
        }
    }

    private static Run loadgen(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new LoadGen());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void againstTheEchoExampleEveryByteComesBackAndTheLastLineParses() throws Exception {
        Path stdout = Files.createTempFile("echo", ".out");
        Process echo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "echo", "--port", "0").redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            int port = listeningPort(echo, stdout);
            Run run = loadgen("--port", String.valueOf(port), "--connections", "4", "--depth", "3", "--size", "300",
                    "--duration", "1", "--warmup", "0");
            assertEquals(0, run.status(), run.err());
            Matcher m = run.result();
            assertEquals("0", m.group(5), "errors");
            assertTrue(Long.parseLong(m.group(6)) > 0, "messages echoed");
            assertTrue(Long.parseLong(m.group(1)) > 0, "msgs/s");
            assertEquals(List.of("4", "3", "300"), List.of(m.group(7), m.group(8), m.group(9)));
            assertTrue(Double.parseDouble(m.group(2)) <= Double.parseDouble(m.group(3))
                    && Double.parseDouble(m.group(3)) <= Double.parseDouble(m.group(4)), m.group());
            assertTrue(run.err().lines().anyMatch(l -> PROGRESS.matcher(l).matches()), run.err());
            assertEquals(1, run.out().lines().count(), "only the result line on stdout: " + run.out());

            // messages larger than a read, spread over two reactors
            run = loadgen("--port", String.valueOf(port), "--connections", "3", "--depth", "2", "--size", "150000",
                    "--duration", "1", "--warmup", "0.5", "--reactors", "2");
            assertEquals(0, run.status(), run.err());
            assertEquals("0", run.result().group(5));
            assertTrue(run.err().contains("(warm-up)"), run.err());
        } finally {
            echo.destroyForcibly();
            echo.waitFor(10, TimeUnit.SECONDS);
            echo.getOutputStream().close();
            echo.getInputStream().close();
            Files.deleteIfExists(stdout);
        }
    }

    private static int listeningPort(Process p, Path stdout) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) { // observing a child: poll its output with a deadline
            String s = Files.readString(stdout);
            Matcher m = Pattern.compile("listening on \\S+:(\\d+)\n").matcher(s);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(p.isAlive(), "echo exited early");
            assertTrue(System.nanoTime() < deadline, "no 'listening on' line within 30 s");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll interval, not a sync point
        }
    }

    /** Echoes, but flips one bit of the 1000th byte of every connection. */
    private static final class CorruptingEcho implements ConnectionHandler {
        private long seen;

        @Override
        public void onData(Connection c, ByteBuffer data) {
            long at = 1000 - seen;
            if (at >= 0 && at < data.remaining()) {
                int i = data.position() + (int) at;
                data.put(i, (byte) (data.get(i) ^ 0x20));
            }
            seen += data.remaining();
            c.write(data);
        }
    }

    @Test
    void aCorruptingServerIsCaughtWithErrorsAndExitOne() throws Exception {
        try (Reactor reactor = Reactor.builder().name("corrupting-echo").build()) {
            Thread loop = reactor.start();
            TcpServer server = TcpServer.builder(reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .handlerFactory(CorruptingEcho::new).start();
            Run run = loadgen("--port", String.valueOf(server.port()), "--connections", "2", "--size", "64",
                    "--depth", "4", "--duration", "1", "--warmup", "0");
            assertEquals(1, run.status(), run.err());
            assertEquals("2", run.result().group(5), "both connections fail: " + run.out());
            // byte 1000 of the stream is byte 1000 % 64 = 40 of message 1000 / 64 = 15
            assertTrue(run.err().contains("payload mismatch: byte 40 of message 15 is 0x"), run.err());
            assertTrue(run.err().contains("loadgen: 2 errors (failed connections or wrong bytes)"), run.err());
            server.close();
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(10)));
            loop.join(10_000);
        }
    }

    @Test
    void aRefusedConnectionIsAnError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nobody listens there now
        }
        Run run = loadgen("--port", String.valueOf(port), "--connections", "2", "--duration", "1", "--warmup", "0");
        assertEquals(1, run.status(), run.err());
        assertEquals("2", run.result().group(5));
        assertTrue(run.err().contains("could not connect"), run.err());
    }

    @Test
    void badOptionsExitTwoWithAMessage() {
        String[][] bad = {{"--connections", "0"}, {"--depth", "0"}, {"--size", "0"}, {"--duration", "0"},
                {"--warmup", "-1"}, {"--port", "0"}, {"--port", "x"}, {"--reactors", "0"}, {"--bogus"}};
        String[] says = {"--connections must be 1..1000000: 0", "--depth must be 1..65536: 0",
                "--size must be 1..16777216: 0", "--duration must be more than 0 and at most 86400 s: 0.0",
                "--warmup must be 0..86400 s: -1.0", "--port must be 1..65535: 0",
                "Invalid value for option '--port': 'x' is not an int", "--reactors must be 1..1024: 0",
                "Unknown option: '--bogus'"};
        for (int i = 0; i < bad.length; i++) {
            Run run = loadgen(bad[i]);
            assertEquals(2, run.status(), String.join(" ", bad[i]));
            assertTrue(run.err().contains(says[i]), run.err());
            assertEquals("", run.out());
        }
    }
}
