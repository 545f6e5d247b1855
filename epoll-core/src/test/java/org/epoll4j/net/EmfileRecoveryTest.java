package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A server out of fds (EMFILE on accept) sheds the connections it cannot take, does not spin, and serves again once
 * fds are free. The server runs in a child JVM started under {@code prlimit --nofile=128:128}.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class EmfileRecoveryTest {
    private static final int LIMIT = 128;
    private static final int CLIENTS = 250;
    private static final Pattern STATS = Pattern.compile("stats rejected=(\\d+) active=(\\d+) accepted=(\\d+)");

    private static Matcher stats(ChildJvm child) throws Exception {
        child.send("stats");
        Matcher m = STATS.matcher(child.expect("stats ", Duration.ofSeconds(10)));
        assertTrue(m.matches());
        return m;
    }

    /** The server's open connection count (a round trip to the child per call). */
    private static int uncheckedStats(ChildJvm child) {
        try {
            return Integer.parseInt(stats(child).group(2));
        } catch (Exception e) {
            throw new AssertionError("stats from the child", e);
        }
    }

    /** 1: echoed, 0: closed by the server (EOF or reset). A hang fails the test through the read timeout. */
    private static int probe(Socket s) throws IOException {
        s.setSoTimeout(5000);
        try {
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            int b = in.read();
            if (b == 'x') {
                return 1;
            }
            assertEquals(-1, b, "unexpected byte");
            return 0;
        } catch (SocketTimeoutException hang) {
            throw new AssertionError("connection " + s + " neither echoed nor was closed within 5 s", hang);
        } catch (SocketException reset) {
            return 0;
        }
    }

    static String fds(long pid) {
        try (var st = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return st.map(p -> {
                try {
                    return p.getFileName() + "->" + Files.readSymbolicLink(p);
                } catch (IOException e) {
                    return "?";
                }
            }).toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    static String listeners() {
        try {
            return String.join("\n", Files.readAllLines(Path.of("/proc/net/tcp"))).lines()
                    .filter(l -> l.contains(" 0A ")).toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void overflowIsShedWithoutSpinningAndServiceResumes() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")) || Files.isExecutable(Path.of("/bin/prlimit")),
                "prlimit (util-linux) is needed to start the server under a low fd limit");
        List<Socket> held = new ArrayList<>();
        try (ChildJvm child = ChildJvm.start(List.of("prlimit", "--nofile=" + LIMIT + ":" + LIMIT),
                List.of("-XX:-MaxFDLimit"), EmfileServerMain.class)) {
            int port = Integer.parseInt(child.expect("port ", Duration.ofSeconds(20)).substring(5));
            for (int i = 0; i < CLIENTS; i++) {
                try {
                    held.add(NetTestKit.connect(port)); // the kernel completes the handshake, accepted or not
                } catch (IOException e) {
                    throw new AssertionError("connect #" + i + " failed; child alive=" + child.process().isAlive()
                            + ", stderr: " + child.stderr() + ", fds: " + fds(child.pid()) + ", cp="
                            + System.getProperty("java.class.path") + ", listen: " + listeners(), e);
                }
            }
            int echoed = 0;
            int shed = 0;
            for (Socket s : held) {
                if (probe(s) == 1) {
                    echoed++;
                } else {
                    shed++;
                }
            }
            assertTrue(echoed > 0 && echoed < LIMIT, "echoed " + echoed);
            assertEquals(CLIENTS, echoed + shed);
            Matcher m = stats(child);
            long rejected = Long.parseLong(m.group(1));
            assertTrue(rejected > 0, () -> "rejectedCount " + rejected + "; child stderr: " + child.stderr());
            assertEquals(echoed, Integer.parseInt(m.group(2)), "active = the connections that echoed");
            assertEquals(shed, rejected, "every connection that was not served was rejected");

            // Still at the limit: a few more arrivals are shed too, and the loop stays idle (no busy accept loop).
            for (int i = 0; i < 5; i++) {
                Socket s = NetTestKit.connect(port);
                held.add(s);
                assertEquals(0, probe(s), "a connection beyond the limit is closed, not left hanging");
            }
            long before = child.cpuTicks();
            long t0 = System.nanoTime();
            Thread.sleep(1000); // a measurement window, not synchronisation: CPU the child burns while overflowed
            long ticks = child.cpuTicks() - before;
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ticks < 25, "child used " + ticks + " clock ticks of CPU in " + ms + " ms while out of fds");

            // Release everything: the server accepts and echoes again.
            for (Socket s : held) {
                s.close();
            }
            held.clear();
            NetTestKit.awaitUntil(() -> uncheckedStats(child) == 0, Duration.ofSeconds(15),
                    "the server saw every client close");
            try (Socket again = NetTestKit.connect(port)) {
                assertEquals(1, probe(again), "accepts and echoes after fds were freed");
            }
            child.send("quit");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
