package org.epoll4j.net;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A server out of fds records {@code org.epoll4j.AcceptRejected} (EMFILE, how many waiting connections it closed).
 * The server is {@link EmfileServerMain} in a child JVM under {@code prlimit --nofile=128}, recording to a file.
 */
@Timeout(90)
@ExtendWith(FdLeakCheck.class)
class AcceptRejectedEventTest {
    @Test
    void emfileIsRecorded() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")) || Files.isExecutable(Path.of("/bin/prlimit")),
                "prlimit (util-linux) is needed to start the server under a low fd limit");
        Path jfr = Files.createTempFile("accept-rejected", ".jfr");
        List<Socket> held = new ArrayList<>();
        try {
            try (ChildJvm child = ChildJvm.start(List.of("prlimit", "--nofile=128:128"),
                    List.of("-XX:-MaxFDLimit", "-XX:StartFlightRecording:filename=" + jfr + ",dumponexit=true"),
                    EmfileServerMain.class)) {
                int port = Integer.parseInt(child.expect("port ", Duration.ofSeconds(30)).substring(5));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                long rejected = 0;
                while (rejected == 0) { // connect until the server sheds some: it has at most ~100 fds to spare
                    assertTrue(System.nanoTime() < deadline, "the server never ran out of fds");
                    for (int i = 0; i < 50; i++) {
                        held.add(NetTestKit.connect(port));
                    }
                    child.send("stats");
                    String stats = child.expect("stats ", Duration.ofSeconds(10));
                    rejected = Long.parseLong(stats.replaceAll(".*rejected=(\\d+).*", "$1"));
                }
                for (Socket s : held) {
                    s.close(); // frees the server's fds so that its recording can be written at exit
                }
                child.send("quit");
                assertTrue(child.process().waitFor(30, TimeUnit.SECONDS), "the child did not exit");
            }
            List<RecordedEvent> events = RecordingFile.readAllEvents(jfr).stream()
                    .filter(e -> e.getEventType().getName().equals("org.epoll4j.AcceptRejected")).toList();
            assertFalse(events.isEmpty(), "no AcceptRejected event in " + jfr);
            for (RecordedEvent e : events) {
                assertEquals("EMFILE", e.getString("errno"));
                assertTrue(e.getInt("listenFd") > 0, e.toString());
            }
            // One EMFILE can find no connection left to shed (the client's connect raced the accept); the server's
            // rejected count was > 0, so some event must report the connections it closed.
            assertTrue(events.stream().anyMatch(e -> e.getLong("connectionsClosed") > 0), events.toString());
        } finally {
            for (Socket s : held) {
                s.close();
            }
            Files.deleteIfExists(jfr);
        }
    }
}
