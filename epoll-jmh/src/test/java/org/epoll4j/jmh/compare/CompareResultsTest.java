package org.epoll4j.jmh.compare;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The comparison's medians, ratios, memory per idle connection, JSON round trip and /proc parsing. */
@Timeout(30)
class CompareResultsTest {
    private static CompareResults.Run run(String load, String server, int round, double msgs, double cpu,
                                          long rssBefore, long rssLoaded, int idle) {
        return new CompareResults.Run(load, server, round, true, msgs, 10 * round, 100 * round, 0, cpu, rssBefore,
                rssLoaded, idle, "");
    }

    @Test
    void summarizesMediansRatiosAndIdleMemory(@TempDir Path dir) throws Exception {
        List<CompareResults.Run> runs = List.of(
                run("A", "ours", 1, 100, 4, -1, -1, 0), run("A", "c", 1, 200, 3, -1, -1, 0),
                run("A", "ours", 2, 300, 6, -1, -1, 0), run("A", "c", 2, 220, 3, -1, -1, 0),
                run("A", "ours", 3, 200, 5, -1, -1, 0), run("A", "c", 3, 180, 3, -1, -1, 0),
                run("idle", "ours", 1, 50, 1, 10_000, 17_000, 10_000),
                new CompareResults.Run("idle", "c", 1, false, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN,
                        -1, -1, 10_000, "server died"));
        List<CompareResults.Summary> s = CompareResults.summarize(runs);
        assertEquals(4, s.size());
        CompareResults.Summary ours = s.get(0);
        assertEquals("ours", ours.server());
        assertEquals(200, ours.medianMsgsPerSec());
        assertEquals(100, ours.minMsgsPerSec());
        assertEquals(300, ours.maxMsgsPerSec());
        assertEquals(1.0, ours.ratioToBest(), 1e-9, "200 vs c's median 200");
        assertEquals(5, ours.cpuUsPerMsg());
        assertEquals(20, ours.p50Us());
        CompareResults.Summary idle = s.get(2);
        assertEquals(7_000 * 1024.0 / 10_000, idle.bytesPerIdleConnection(), 1e-9);
        assertEquals(0, s.get(3).runsOk());

        CompareResults r = new CompareResults("title", Map.of("cpus", "2"), runs, s);
        String md = r.markdown();
        assertTrue(md.contains("| ours | 200 [100..300] | 1.00 | 20.0 | 200.0 | 5.00 | 3/3 |"), md);
        assertTrue(md.contains("| c | FAILED |"), md);
        assertTrue(md.contains("717 B"), md);

        Path f = dir.resolve("compare.json");
        r.write(f);
        CompareResults back = CompareResults.read(f);
        assertEquals(r.summaries().get(0), back.summaries().get(0));
        assertTrue(Double.isNaN(back.summaries().get(0).bytesPerIdleConnection()), "NaN survives the round trip");
        assertEquals(r.runs().size(), back.runs().size());
    }

    @Test
    void parsesProcStatWithAnAwkwardCommandName() {
        String stat = "4242 (java (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 30 0 100 0 0";
        assertEquals(1234 + 567, EchoCompare.parseCpuTicks(stat));
    }

    @Test
    void parsesTheLoadGeneratorLine() {
        Map<String, String> kv = EchoCompare.parseKv("msgs_per_s=251234 p50_us=190.5 p99_us=400.1 errors=0 x");
        assertEquals("251234", kv.get("msgs_per_s"));
        assertEquals("400.1", kv.get("p99_us"));
        assertEquals(4, kv.size());
    }
}
