package org.epoll4j.examples.resp;

import org.epoll4j.examples.resp.RespTestSupport.Server;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * redis-cli and redis-benchmark (Debian's redis-tools) against the resp server. Skipped where they are not
 * installed, except under CI (the CI environment variable set), which installs them: there a missing tool fails.
 */
@Timeout(120)
class RespRealClientsTest {
    private static void require(String program) {
        if (System.getenv("CI") != null) {
            assertTrue(RespTestSupport.onPath(program), program + " must be installed under CI");
        } else {
            Assumptions.assumeTrue(RespTestSupport.onPath(program), program + " not installed");
        }
    }

    /** Runs {@code command} with a deadline; returns its exit status and output (stderr merged). */
    private static String[] run(long seconds, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("resp-client", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
            return new String[] {String.valueOf(p.exitValue()), Files.readString(out, StandardCharsets.UTF_8)};
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(out);
        }
    }

    private static String cli(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        String[] r = run(30, cmd.toArray(new String[0]));
        assertEquals("0", r[0], r[1]);
        return r[1].strip();
    }

    @Test
    void redisCli() throws Exception {
        require("redis-cli");
        try (Server s = new Server()) {
            assertEquals("OK", cli(s.port, "set", "k", "v"));
            assertEquals("v", cli(s.port, "get", "k"));
            assertEquals("PONG", cli(s.port, "ping"));
            assertEquals("3", cli(s.port, "rpush", "l", "a", "b", "c"));
            assertEquals("a\nb\nc", cli(s.port, "lrange", "l", "0", "-1"));
            // not a terminal: redis-cli prints errors without "(error) "
            assertEquals("WRONGTYPE Operation against a key holding the wrong kind of value",
                    cli(s.port, "get", "l"));
            assertEquals("2", cli(s.port, "dbsize"));
        }
    }

    @Test
    void redisCliResp3AuthAndSelect() throws Exception {
        require("redis-cli");
        try (Server s = new Server("--requirepass", "pw")) {
            String[] r = run(30, "redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(s.port), "get", "k");
            assertTrue(r[1].contains("NOAUTH Authentication required."), r[1]);
            assertEquals("1", cli(s.port, "-a", "pw", "--no-auth-warning", "-n", "3", "hset", "h", "f", "v"));
            // -3: HELLO 3, so HGETALL answers a map, printed as "key" => "value" lines
            assertEquals("1# \"f\" => \"v\"", cli(s.port, "-3", "-a", "pw", "--no-auth-warning", "-n", "3",
                    "--no-raw", "hgetall", "h"));
            assertEquals("", cli(s.port, "-a", "pw", "--no-auth-warning", "-n", "0", "hgetall", "h"));
        }
    }

    /** redis-benchmark with no -t runs its whole default list; before, the server stopped it at SPOP. */
    @Test
    void redisBenchmarkDefaultListRunsToTheEnd() throws Exception {
        require("redis-benchmark");
        try (Server s = new Server("--reactors", "2")) {
            String[] r = run(110, "redis-benchmark", "-h", "127.0.0.1", "-p", String.valueOf(s.port),
                    "-n", "200", "-c", "4", "-q");
            assertEquals("0", r[0], r[1]);
            String text = r[1].replace('\r', '\n');
            for (String test : new String[] {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH",
                "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LRANGE_100 \\(first 100 elements\\)",
                "LRANGE_600 \\(first 600 elements\\)", "MSET \\(10 keys\\)"}) {
                assertTrue(text.matches("(?s).*(^|\n)" + test + ": [0-9.]+ requests per second.*"), test + ": " + text);
            }
            assertFalse(text.contains("ERR"), text);
        }
    }

    @Test
    void redisBenchmarkPlainAndPipelined() throws Exception {
        require("redis-benchmark");
        for (String reactors : new String[] {"1", "2"}) {
            try (Server s = new Server("--reactors", reactors)) {
                for (String pipeline : new String[] {"1", "16"}) {
                    String[] r = run(90, "redis-benchmark", "-h", "127.0.0.1", "-p", String.valueOf(s.port),
                            "-n", "2000", "-c", "5", "-t", "ping,set,get", "-q", "-P", pipeline);
                    assertEquals("0", r[0], r[1]);
                    String text = r[1].replace('\r', '\n');
                    for (String test : new String[] {"PING_INLINE", "PING_MBULK", "SET", "GET"}) {
                        assertTrue(text.matches("(?s).*\\b" + test + ": [0-9.]+ requests per second.*"),
                                test + " with -P " + pipeline + ": " + text);
                    }
                    assertFalse(text.contains("ERR"), text);
                }
                String out = s.stop();
                // 2 runs x 4 tests x 2000 requests, plus the CONFIG GETs redis-benchmark starts with
                assertTrue(s.resp.commands() >= 16_000, out);
                assertTrue(out.contains(", 0 protocol errors, 1 keys"), out);
            }
        }
    }
}
