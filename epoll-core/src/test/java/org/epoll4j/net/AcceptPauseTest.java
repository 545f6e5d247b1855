package org.epoll4j.net;

import org.epoll4j.ReactorGroup;
import org.epoll4j.internal.LibC;
import org.epoll4j.net.TcpServerGroup.AcceptStrategy;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.LogCapture;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptor's 100 ms back-off (after an accept4 error it cannot handle, or EMFILE without a reserve fd): a reactor
 * that closes while a listener is paused still closes the listener, for every strategy (EXCLUSIVE takes its
 * registration out of epoll during the pause, so the reactor's close cannot reach it through the registration).
 */
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@Timeout(60)
class AcceptPauseTest {
    private static final String NAME = ThreadLeakCheck.REACTOR_PREFIX + "pause";

    @ParameterizedTest
    @EnumSource(AcceptStrategy.class)
    void aReactorClosedDuringTheAcceptPauseStillClosesTheListener(AcceptStrategy strategy) throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build();
        TcpServerGroup server;
        try (LogCapture log = new LogCapture(TcpServer.class.getName(), Level.WARNING)) {
            server = TcpServerGroup.builder(group).accept(strategy).handler(new NetTestKit.Echo()).start();
            // A listening socket shut down stops listening: epoll reports it (EPOLLHUP) and accept4 fails with
            // EINVAL, which the acceptor answers with its pause, again and again.
            assertEquals(0, LibC.shutdown(server.servers().get(0).listenFd(), LibC.SHUT_RDWR));
            log.await(r -> LogCapture.text(r).contains("pausing accepts"), Duration.ofSeconds(10));
            group.close();
        }
        assertTrue(group.awaitTermination(Duration.ofSeconds(10)));
        server.closeFuture().get(10, TimeUnit.SECONDS); // hung for EXCLUSIVE: the paused member never closed
        for (TcpServer s : server.servers()) {
            assertTrue(s.closeFuture().isDone(), s + " closed");
        }
        // FdLeakCheck: the listener(s) and reserve fds are closed.
    }
}
