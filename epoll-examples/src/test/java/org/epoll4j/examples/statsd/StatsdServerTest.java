package org.epoll4j.examples.statsd;

import org.epoll4j.examples.ServerUnderTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The StatsD aggregator: its semantics, and real clients (a Java DatagramSocket, nc -u) against the server. */
@Timeout(120)
class StatsdServerTest {
    private static String flush(String... lines) {
        Metrics m = new Metrics();
        for (String l : lines) {
            StatsdParser.parse(ByteBuffer.wrap(l.getBytes(StandardCharsets.UTF_8)), m);
        }
        return m.flush("stats.", 2.0, 1000, new int[] {50, 90, 99});
    }

    @Test
    void countersGaugesTimersSetsAndSampleRates() {
        String out = flush("hits:1|c\nhits:2|c", "hits:1|c|@0.1", "temp:20|g", "temp:+5|g\ntemp:-2|g",
                "lat:10|ms\nlat:20|ms\nlat:30|ms\nlat:40|ms|@0.5", "users:alice|s\nusers:bob|s\nusers:alice|s",
                "size:100|h", "multi:1|c:2|c", "tagged:3|c|#env:prod");
        assertTrue(out.contains("stats.counters.hits.count 13 1000\n"), out); // 1 + 2 + 1/0.1
        assertTrue(out.contains("stats.counters.hits.rate 6.5 1000\n"), out);
        assertTrue(out.contains("stats.gauges.temp 23 1000\n"), out);
        assertTrue(out.contains("stats.timers.lat.count 5 1000\n"), out); // 3 + 1/0.5
        assertTrue(out.contains("stats.timers.lat.mean 25 1000\n"), out);
        assertTrue(out.contains("stats.timers.lat.min 10 1000\n"), out);
        assertTrue(out.contains("stats.timers.lat.max 40 1000\n"), out);
        assertTrue(out.contains("stats.timers.lat.p50 20 1000\n"), out);
        assertTrue(out.contains("stats.timers.lat.p90 40 1000\n"), out);
        assertTrue(out.contains("stats.sets.users.count 2 1000\n"), out);
        assertTrue(out.contains("stats.timers.size.count 1 1000\n"), out);
        assertTrue(out.contains("stats.counters.multi.count 3 1000\n"), out);
        assertTrue(out.contains("stats.counters.tagged.count 3 1000\n"), out);
    }

    @Test
    void gaugesPersistCountersReset() {
        Metrics m = new Metrics();
        StatsdParser.parse(ByteBuffer.wrap("g:5|g\nc:1|c".getBytes(StandardCharsets.UTF_8)), m);
        m.flush("", 1, 1, new int[] {50});
        String second = m.flush("", 1, 1, new int[] {50});
        assertEquals("gauges.g 5 1\n", second);
    }

    @Test
    void malformedLinesAreCountedAndSkipped() {
        Metrics m = new Metrics();
        StatsdParser.parse(ByteBuffer.wrap("nocolon\nx:abc|c\ny:1|zz\nz:1|c|@2\nok:1|c\n:1|c".getBytes(StandardCharsets.UTF_8)), m);
        assertEquals(6, m.lines);
        assertEquals(5, m.bad);
        assertEquals("counters.ok.count 1 1\ncounters.ok.rate 1 1\n", m.flush("", 1, 1, new int[0]));
    }

    private static ServerUnderTest start(String... extra) {
        StatsdServer server = new StatsdServer();
        CountDownLatch stop = new CountDownLatch(1);
        server.stop = stop;
        String[] args = new String[4 + extra.length];
        args[0] = "--port";
        args[1] = "0";
        args[2] = "--flush-ms";
        args[3] = "100";
        System.arraycopy(extra, 0, args, 4, extra.length);
        return ServerUnderTest.start(server, stop, args);
    }

    @Test
    void aJavaDatagramSocketFeedsTheServer() throws Exception {
        ServerUnderTest s = start();
        try (DatagramSocket c = new DatagramSocket()) {
            int port = s.port();
            byte[] b = "java.hits:4|c\njava.lat:7|ms".getBytes(StandardCharsets.US_ASCII);
            c.send(new DatagramPacket(b, b.length, InetAddress.getByName("127.0.0.1"), port));
            s.awaitOutput("stats.counters.java.hits.count 4 ");
            s.awaitOutput("stats.timers.java.lat.p99 7 ");
        } finally {
            s.requestStop();
            assertEquals(0, s.awaitExit());
        }
        assertTrue(s.output().contains("statsd: stopped; 1 datagrams, 2 metric lines (0 malformed)"), s.output());
    }

    @Test
    void ncFeedsTheServer() throws Exception {
        Path nc = findOnPath("nc");
        Assumptions.assumeTrue(nc != null || System.getenv("CI") != null, "nc (netcat-openbsd) is not installed");
        assertNotNull(nc, "CI is set but nc is not installed");
        ServerUnderTest s = start();
        try {
            int port = s.port();
            Process p = new ProcessBuilder(nc.toString(), "-u", "-w1", "127.0.0.1", String.valueOf(port))
                    .redirectErrorStream(true).start();
            p.getOutputStream().write("nc.gauge:42|g\nnc.users:x|s\n".getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "nc did not end");
            s.awaitOutput("stats.gauges.nc.gauge 42 ");
            s.awaitOutput("stats.sets.nc.users.count 1 ");
        } finally {
            s.requestStop();
            assertEquals(0, s.awaitExit());
        }
    }

    @Test
    void flushesGoToATcpSink() throws Exception {
        try (ServerSocket sink = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            sink.setSoTimeout(60_000);
            ServerUnderTest s = start("--sink", "127.0.0.1:" + sink.getLocalPort(), "--prefix", "app.");
            try (DatagramSocket c = new DatagramSocket()) {
                byte[] b = "sunk:2|c".getBytes(StandardCharsets.US_ASCII);
                c.send(new DatagramPacket(b, b.length, InetAddress.getByName("127.0.0.1"), s.port()));
                try (Socket conn = sink.accept();
                     BufferedReader r = new BufferedReader(new InputStreamReader(conn.getInputStream(),
                             StandardCharsets.UTF_8))) {
                    String line = r.readLine();
                    assertNotNull(line);
                    assertTrue(line.startsWith("app.counters.sunk.count 2 "), line);
                }
                assertFalse(s.output().contains("app.counters"), "flushed to stdout too: " + s.output());
            } finally {
                s.requestStop();
                assertEquals(0, s.awaitExit());
            }
        }
    }

    static Path findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
