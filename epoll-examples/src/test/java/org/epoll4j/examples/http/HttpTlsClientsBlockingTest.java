package org.epoll4j.examples.http;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link HttpTlsClientsTest} (TLS with curl and openssl) against {@code http --blocking}: the same protocol as straight-line code
 * on a thread per connection ({@link BlockingHttp}).
 */
@ExtendWith(TestServer.BlockingMode.class)
class HttpTlsClientsBlockingTest extends HttpTlsClientsTest {
}
