package org.epoll4j.examples.resp;

import org.epoll4j.examples.Main;
import org.epoll4j.examples.resp.RespTestSupport.Client;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The resp program as users run it: through Main, options, and as a child JVM stopped by SIGTERM. */
@Timeout(60)
class RespServerProcessTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    @Test
    void helpAndBadOptions() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = new picocli.CommandLine(new RespServer());
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        assertEquals(0, cl.execute("--help"));
        assertTrue(out.toString().startsWith("Usage: resp"), out.toString());
        assertTrue(out.toString().contains("--query-buffer-limit=BYTES") && out.toString().contains("--reactors=N"),
                out.toString());
        assertEquals(2, cl.execute("--query-buffer-limit", "10"));
        assertTrue(err.toString().contains("--query-buffer-limit must be at least 1024: 10"), err.toString());
    }

    @Test
    void childJvmServesAndStopsCleanlyOnSigterm() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "resp", "--port", "0", "--reactors", "2"));
        Path stdout = Files.createTempFile("resp", ".out");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String first = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (first == null) { // observing the child: poll its output with a deadline
                String text = Files.readString(stdout);
                if (text.contains("\n")) {
                    first = text.substring(0, text.indexOf('\n'));
                } else {
                    assertTrue(p.isAlive(), "resp exited early with " + (p.isAlive() ? 0 : p.exitValue()));
                    assertTrue(System.nanoTime() < deadline, "no 'listening on' line within 30 s");
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll interval, not a sync point
                }
            }
            Matcher m = LISTENING.matcher(first);
            assertTrue(m.matches(), "first line: " + first);
            try (Client c = new Client(Integer.parseInt(m.group(2)))) {
                assertEquals("+OK", c.call("SET", "k", "v"));
                assertEquals("v", c.call("GET", "k"));
                c.send("*1\r\n$x\r\n");
                assertEquals("-ERR Protocol error: invalid bulk length", c.read());
                assertTrue(c.closedByServer());
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exits after SIGTERM");
            assertEquals(143, p.exitValue(), "the JVM's status for a SIGTERM it handled (128 + 15)");
            List<String> all = Files.readAllLines(stdout);
            assertEquals(List.of("resp: stopped; 1 connections, 2 commands, 1 protocol errors, 1 keys, "
                    + "0 keyspace lock waits"), all.subList(1, all.size()));
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            p.getOutputStream().close();
            p.getInputStream().close();
            Files.deleteIfExists(stdout);
        }
    }
}
