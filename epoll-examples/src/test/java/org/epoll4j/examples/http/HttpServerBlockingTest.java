package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpServerTest} (keep-alive, pipelining, files through sendFile, ranges, errors and closes) against {@code http --blocking}: the same protocol as straight-line code
 * on a thread per connection ({@link BlockingHttp}).
 */
@ExtendWith(TestServer.BlockingMode.class)
class HttpServerBlockingTest extends HttpServerTest {
}
