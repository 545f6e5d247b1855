package org.epoll4j.jmh.charts;

import org.epoll4j.jmh.compare.CompareResults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JMH JSON is read as JMH writes it, and every chart comes out as a PNG. */
@Timeout(60)
class ChartsTest {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static String row(String bench, String params, double score, String secondary) {
        return "{\"jmhVersion\":\"1.37\",\"benchmark\":\"org.epoll4j.jmh." + bench + "\",\"mode\":\"avgt\","
                + "\"threads\":1,\"forks\":1,\"params\":{" + params + "},"
                + "\"primaryMetric\":{\"score\":" + score + ",\"scoreError\":\"NaN\",\"scoreConfidence\":[0,0],"
                + "\"scoreUnit\":\"ns/op\",\"rawData\":[[" + score + "]]},"
                + "\"secondaryMetrics\":{" + secondary + "}}";
    }

    private static Path jmhJson(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder("[");
        String sep = "";
        for (int n : new int[]{10, 100, 1000, 10000}) {
            sb.append(sep).append(row("MultiplexBenchmark.epollWait", "\"n\":\"" + n + "\"", 300, ""));
            sb.append(',').append(row("MultiplexBenchmark.poll", "\"n\":\"" + n + "\"", 30.0 * n, ""));
            sb.append(',').append(row("MultiplexBenchmark.pollBuildSet", "\"n\":\"" + n + "\"", 2.0 * n, ""));
            if (n <= 1000) {
                sb.append(',').append(row("SelectBenchmark.select", "\"n\":\"" + n + "\"", 40.0 * n, ""));
                sb.append(',').append(row("SelectBenchmark.selectBuildSet", "\"n\":\"" + n + "\"", 1.0 * n, ""));
            }
            sep = ",";
        }
        for (String mode : List.of("LEVEL", "EDGE")) {
            for (int k : new int[]{1, 16}) {
                sb.append(',').append(row("EdgeLevelBenchmark.round",
                        "\"burst\":\"8\",\"k\":\"" + k + "\",\"trigger\":\"" + mode + "\"", 1000,
                        "\"messages\":{\"score\":8000.0,\"scoreUnit\":\"ops/s\"},"
                                + "\"epollWaits\":{\"score\":2000.0,\"scoreUnit\":\"ops/s\"}"));
            }
        }
        for (String t : List.of("EPOLL4J", "NETTY", "NIO")) {
            sb.append(',').append(row("TransportPingPongBenchmark.roundTrip", "\"transport\":\"" + t + "\"", 20, ""));
            sb.append(',').append(row("TransportEchoBenchmark.echoAll", "\"transport\":\"" + t + "\"", 5e4, ""));
        }
        sb.append(']');
        Path f = dir.resolve("jmh.json");
        Files.writeString(f, sb);
        return f;
    }

    @Test
    void readsJmhJson(@TempDir Path dir) throws Exception {
        JmhResults r = JmhResults.read(jmhJson(dir));
        assertEquals(4, r.of("MultiplexBenchmark", "poll").size());
        JmhResults.Row poll100 = r.find("MultiplexBenchmark", "poll", "n", "100").orElseThrow();
        assertEquals(3000.0, poll100.score());
        assertTrue(Double.isNaN(poll100.scoreError()), "JMH's \"NaN\" string reads as NaN");
        assertEquals("ns/op", poll100.unit());
        JmhResults.Row edge = r.find("EdgeLevelBenchmark", "round", "trigger", "EDGE").orElseThrow();
        assertEquals(8000.0, edge.secondary().get("messages"));
        assertEquals(2000.0, edge.secondary().get("epollWaits"));
    }

    @Test
    void drawsEveryChartAsPng(@TempDir Path dir) throws Exception {
        Charts charts = new Charts(dir.resolve("img"), "test");
        charts.jmh(JmhResults.read(jmhJson(dir)));
        // no epollCtls counter in the input: no epoll_ctl chart
        List<CompareResults.Run> runs = List.of(
                new CompareResults.Run("50 conns", "epoll4j", 1, true, 1000, 10, 20, 0, 4, -1, -1, 0, ""),
                new CompareResults.Run("50 conns", "netty", 1, true, 900, 11, 22, 0, 5, -1, -1, 0, ""),
                new CompareResults.Run("idle", "epoll4j", 1, true, 500, 10, 20, 0, 4, 40_000, 47_000, 10_000, ""),
                new CompareResults.Run("idle", "netty", 1, false, Double.NaN, Double.NaN, Double.NaN, 0,
                        Double.NaN, -1, -1, 10_000, "server did not start"));
        charts.compare(new CompareResults("t", Map.of(), runs, CompareResults.summarize(runs)));
        List<String> names = charts.written().stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("multiplex-by-n.png", "edge-level-throughput.png", "edge-level-epoll-waits.png",
                "transport-ping-pong.png", "transport-echo.png", "echo-throughput.png", "echo-cpu.png", "echo-idle-memory.png"), names);
        for (Path p : charts.written()) {
            byte[] head = Files.readAllBytes(p);
            assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G', p + " is no PNG");
        }
    }
}
