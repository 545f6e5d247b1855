package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpSafetyTest} (hostile clients: path escapes, oversized and trickled heads, idle connections) against {@code http --blocking}: the same protocol as straight-line code
 * on a thread per connection ({@link BlockingHttp}).
 */
@ExtendWith(TestServer.BlockingMode.class)
class HttpSafetyBlockingTest extends HttpSafetyTest {
}
