package org.epoll4j.examples.resp;

import org.epoll4j.examples.ChildJvm;
import org.epoll4j.examples.resp.RespTestSupport.Client;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        try (ChildJvm child = ChildJvm.start("resp", "--port", "0", "--reactors", "2")) {
            Process p = child.process();
            Path stdout = child.stdout();
            String first = child.firstLine();
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
        }
    }
}
