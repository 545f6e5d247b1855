package org.epoll4j.examples.loadgen;

import org.epoll4j.Reactor;
import org.epoll4j.examples.Main;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The open loop (a stalled server shows in the recorded latencies), the coordinated-omission correction of the
 * closed loop, and the http and resp protocols against the examples and against response streams cut anywhere.
 */
@Timeout(120)
class LoadGenModesTest {
    private static final Pattern P99 = Pattern.compile("p99_us=([\\d.]+) p999_us=([\\d.]+) errors=(\\d+) "
            + "mean_us=[\\d.]+ max_us=([\\d.]+) msgs=(\\d+)");

    private record Run(int status, String out, String err) {
        Matcher result() {
            Matcher m = P99.matcher(out);
            assertTrue(m.find(), out + err);
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

    /**
     * Echoes, but after its first 6400 bytes stops reading for one second (a GC pause, a blocked disk): nothing it
     * receives meanwhile is answered until then. The stall is on the reactor's timer, not a blocked thread.
     */
    private static final class StallingEcho implements ConnectionHandler {
        private long seen;
        private boolean stalled;

        @Override
        public void onData(Connection c, ByteBuffer data) {
            seen += data.remaining();
            c.write(data);
            if (!stalled && seen >= 6400) {
                stalled = true;
                c.pauseReading();
                c.reactor().schedule(Duration.ofSeconds(1), c::resumeReading);
            }
        }
    }

    private static Run againstStallingEcho(String... args) throws Exception {
        try (Reactor reactor = Reactor.builder().name("stalling-echo").build()) {
            Thread loop = reactor.start();
            TcpServer server = TcpServer.builder(reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .handlerFactory(StallingEcho::new).start();
            String[] all = new String[args.length + 2];
            all[0] = "--port";
            all[1] = String.valueOf(server.port());
            System.arraycopy(args, 0, all, 2, args.length);
            Run run = loadgen(all);
            server.close();
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(10)));
            loop.join(10_000);
            return run;
        }
    }

    @Test
    void theOpenLoopRecordsAStalledSecondInItsP99() throws Exception {
        // 1000 requests/s over 3 s: about 1000 of the 3000 are due during the stall; each counts from its due time.
        Run run = againstStallingEcho("--size", "64", "--rate", "1000", "--duration", "3", "--warmup", "0");
        assertEquals(0, run.status(), run.err());
        Matcher m = run.result();
        double p99 = Double.parseDouble(m.group(1));
        double max = Double.parseDouble(m.group(4));
        assertTrue(max >= 950_000, "the first request due in the stall waited about 1 s: " + run.out());
        assertTrue(p99 >= 500_000, "a third of the requests were due during the stall: " + run.out());
        assertTrue(run.out().contains(" rate=1000"), run.out());
    }

    @Test
    void theClosedLoopHidesTheStallUnlessCorrected() throws Exception {
        Run plain = againstStallingEcho("--size", "64", "--duration", "2", "--warmup", "0");
        assertEquals(0, plain.status(), plain.err());
        Matcher m = plain.result();
        assertTrue(Double.parseDouble(m.group(4)) >= 950_000, "one sample waited the second: " + plain.out());
        long plainCount = Long.parseLong(m.group(5));

        Run corrected = againstStallingEcho("--size", "64", "--duration", "2", "--warmup", "0",
                "--co-expected-interval-us", "1000");
        assertEquals(0, corrected.status(), corrected.err());
        Matcher c = corrected.result();
        // The 1 s sample also records the ~1000 samples at 1 ms spacing a steady sender would have taken.
        assertTrue(Double.parseDouble(c.group(2)) >= 500_000, "p99.9 shows the stall: " + corrected.out());
        assertTrue(corrected.out().contains(" co_expected_interval_us=1000.0"), corrected.out());
        assertTrue(plainCount > 0);
    }

    @Test
    void httpModeAgainstTheHttpExample() throws Exception {
        try (Child http = Child.start("http", "--port", "0")) {
            Run run = loadgen("--protocol", "http", "--path", "/plaintext", "--port", String.valueOf(http.port),
                    "--connections", "4", "--depth", "8", "--duration", "1", "--warmup", "0");
            assertEquals(0, run.status(), run.err());
            assertTrue(run.out().contains(" protocol=http failures=0"), run.out());
            assertTrue(Long.parseLong(run.result().group(5)) > 0, run.out());
            Run missing = loadgen("--protocol", "http", "--path", "/missing", "--port", String.valueOf(http.port),
                    "--duration", "0.5", "--warmup", "0", "--rate", "200");
            assertEquals(0, missing.status(), missing.err());
            assertFalse(missing.out().contains("failures=0"), "404s are counted: " + missing.out());
        }
    }

    @Test
    void respModeAgainstTheRespExample() throws Exception {
        try (Child resp = Child.start("resp", "--port", "0")) {
            Run run = loadgen("--protocol", "resp", "--port", String.valueOf(resp.port), "--connections", "3",
                    "--depth", "16", "--keys", "100", "--set-percent", "50", "--size", "100", "--duration", "1",
                    "--warmup", "0");
            assertEquals(0, run.status(), run.err());
            assertTrue(run.out().contains(" protocol=resp failures=0"), run.out());
            assertTrue(Long.parseLong(run.result().group(5)) > 0, run.out());
        }
    }

    @Test
    void httpResponsesAreCountedWhereverTheReadsCutThem() throws Exception {
        String stream = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                + "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n"
                + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        countEverySplit(stream, 4, 1, () -> new HttpProtocol("x", "/"));
        assertThrows(IOException.class, () -> new HttpProtocol("x", "/").responses(
                ByteBuffer.wrap("HTTP/1.1 200 OK\nX: y\r\n\r\n".getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void respRepliesAreCountedWhereverTheReadsCutThem() throws Exception {
        String stream = "+OK\r\n$-1\r\n$5\r\nhe\r\no\r\n:12\r\n-ERR wrong\r\n$0\r\n\r\n";
        countEverySplit(stream, 6, 1, () -> new RespProtocol(10, 50, 3, 7));
        RespProtocol p = new RespProtocol(10, 100, 3, 7);
        ByteBuffer out = ByteBuffer.allocate(p.maxRequestBytes());
        p.request(out);
        String set = new String(out.array(), 0, out.position(), StandardCharsets.US_ASCII);
        assertTrue(set.matches("\\*3\r\n\\$3\r\nSET\r\n\\$\\d+\r\nkey:\\d\r\n\\$3\r\nxxx\r\n"), set);
    }

    private static void countEverySplit(String stream, int responses, long failures, Supplier<Protocol> make)
            throws IOException {
        byte[] b = stream.getBytes(StandardCharsets.US_ASCII);
        for (int cut = 0; cut <= b.length; cut++) {
            for (int cut2 = cut; cut2 <= b.length; cut2 += 5) {
                Protocol p = make.get();
                int n = p.responses(ByteBuffer.wrap(b, 0, cut));
                n += p.responses(ByteBuffer.wrap(b, cut, cut2 - cut));
                n += p.responses(ByteBuffer.wrap(b, cut2, b.length - cut2));
                assertEquals(responses, n, "cut at " + cut + " and " + cut2);
                assertEquals(failures, p.failures());
            }
        }
    }

    @Test
    void badModeOptionsExitTwo() {
        String[][] bad = {{"--protocol", "ftp"}, {"--path", "x"}, {"--rate", "-1"}, {"--keys", "0"},
                {"--set-percent", "101"}, {"--rate", "10", "--co-expected-interval-us", "100"}};
        for (String[] args : bad) {
            Run run = loadgen(args);
            assertEquals(2, run.status(), String.join(" ", args));
            assertEquals("", run.out());
        }
    }

    /** An example server in a child JVM. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final int port;
        private final Path stdout;

        private Child(Process process, Path stdout, int port) {
            this.process = process;
            this.stdout = stdout;
            this.port = port;
        }

        static Child start(String... args) throws Exception {
            Path stdout = Files.createTempFile("child", ".out");
            String[] cmd = new String[args.length + 5];
            cmd[0] = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            cmd[1] = "-XX:TieredStopAtLevel=1";
            cmd[2] = "-cp";
            cmd[3] = System.getProperty("java.class.path");
            cmd[4] = Main.class.getName();
            System.arraycopy(args, 0, cmd, 5, args.length);
            Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) { // observing a child: poll its output with a deadline
                Matcher m = Pattern.compile("listening on \\S+:(\\d+)\n").matcher(Files.readString(stdout));
                if (m.find()) {
                    return new Child(p, stdout, Integer.parseInt(m.group(1)));
                }
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    fail("the child did not start: " + Files.readString(stdout));
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll interval, not a sync point
            }
        }

        @Override
        public void close() throws Exception {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process.getOutputStream().close();
            process.getInputStream().close();
            Files.deleteIfExists(stdout);
        }
    }
}
