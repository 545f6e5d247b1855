package org.epoll4j.net;

import java.net.*;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * With {@code import java.net.*} beside {@code import org.epoll4j.net.*} every name a user touches must resolve: the
 * JDK has {@code java.net.SocketOption(s)}, so ours are {@link SockOpt} and {@link SockOpts}. This class only
 * compiles while no public name of {@code org.epoll4j.net} collides with one of {@code java.net}'s.
 */
class JdkImportClashTest {
    @Test
    void theGuidesKeepAliveSnippetCompilesBesideJavaNetWildcard() {
        SockOpts keepalive = SockOpts.empty()
                .with(SockOpt.SO_KEEPALIVE, true)
                .with(SockOpt.TCP_KEEPIDLE, Duration.ofSeconds(60));
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        assertEquals(Boolean.TRUE, keepalive.get(SockOpt.SO_KEEPALIVE));
        assertEquals(0, any.getPort());
    }
}
