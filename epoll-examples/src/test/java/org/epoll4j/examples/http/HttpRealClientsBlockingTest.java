package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpRealClientsTest} (curl (ranges, resume, redirects) and wrk) against {@code http --blocking}: the same protocol as straight-line code
 * on a thread per connection ({@link BlockingHttp}).
 */
@ExtendWith(TestServer.BlockingMode.class)
class HttpRealClientsBlockingTest extends HttpRealClientsTest {
}
