package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.LogCapture;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.time.Duration;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** DEBUG logs each connection's lifecycle: accepted (fd, peer, listener) and closed (peer, bytes, why). */
@Timeout(30)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class ConnectionLoggingTest {
    @Test
    void acceptedAndClosedAtDebug() throws Exception {
        Reactor reactor = NetTestKit.startReactor("nettest-log");
        try (LogCapture server = new LogCapture(TcpServer.class.getName(), Level.FINE);
             LogCapture conn = new LogCapture(Connection.class.getName(), Level.FINE)) {
            TcpServer s = TcpServer.builder(reactor).handler((c, data) -> c.write(data)).start();
            int local;
            try (Socket client = NetTestKit.connect(s.port())) {
                local = client.getLocalPort();
                client.getOutputStream().write('x');
                assertTrue(client.getInputStream().read() == 'x');
            }
            String accepted = LogCapture.text(server.await(r -> LogCapture.text(r).contains("accepted fd"),
                    Duration.ofSeconds(10)));
            assertTrue(accepted.startsWith("nettest-log: accepted fd ") && accepted.contains(":" + local + " on "),
                    accepted);
            String closed = LogCapture.text(conn.await(r -> LogCapture.text(r).contains("closed fd"),
                    Duration.ofSeconds(10)));
            assertTrue(closed.contains(":" + local + "), read 1 B, wrote 1 B: no error"), closed);
        } finally {
            NetTestKit.stop(reactor);
        }
    }
}
