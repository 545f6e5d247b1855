package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpRfcTest} (RFC 9110/9112 cases: conditionals, ranges, chunked bodies, the access log, timeouts) against {@code http --blocking}: the same protocol as straight-line code
 * on a thread per connection ({@link BlockingHttp}).
 */
@ExtendWith(TestServer.BlockingMode.class)
class HttpRfcBlockingTest extends HttpRfcTest {
}
