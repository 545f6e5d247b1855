package org.epoll4j.examples.http;

import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpServerTest} (keep-alive, pipelining, files through sendFile, ranges, errors and closes) against {@code http --blocking --on-reactor}:
 * the straight-line server ({@link BlockingHttp}) with each connection's virtual thread carried by its reactor.
 * Java 24+ only.
 */
@ExtendWith(TestServer.OnReactorMode.class)
@EnabledIf("org.epoll4j.net.BlockingService#onReactorThreadAvailable")
class HttpServerOnReactorTest extends HttpServerTest {
}
