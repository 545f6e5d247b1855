package org.epoll4j.examples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The hot path (keep-alive GET /plaintext) allocates (almost) nothing on the reactor thread. */
@Timeout(120)
class HttpAllocationTest {
    private static final String GET = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    private static final int RESPONSE_LENGTH = 133;

    @Test
    void keepAlivePlaintextAllocatesAlmostNothingPerRequest() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (TestServer server = new TestServer(); RawClient c = new RawClient(server.port)) {
            List<Thread> reactors = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("http-0") && t.isAlive()).collect(Collectors.toList());
            assertEquals(1, reactors.size(), "the reactor thread: " + reactors);
            long id = reactors.get(0).getId();
            byte[] batch = GET.repeat(100).getBytes(StandardCharsets.US_ASCII);
            int responseLength = c.send(GET).read().body().length > 0 ? RESPONSE_LENGTH : 0;
            assertEquals(RESPONSE_LENGTH, responseLength);
            // Warm up (JIT), then measure: pipelined batches, then one request per round trip.
            for (int round = 0; round < 2; round++) {
                int batches = round == 0 ? 300 : 500;
                long before = mx.getThreadAllocatedBytes(id);
                for (int i = 0; i < batches; i++) {
                    c.send(batch);
                    for (int j = 0; j < 100; j++) {
                        c.read();
                    }
                }
                long pipelined = (mx.getThreadAllocatedBytes(id) - before) / (batches * 100L);
                int trips = round == 0 ? 5000 : 10_000;
                before = mx.getThreadAllocatedBytes(id);
                for (int i = 0; i < trips; i++) {
                    c.send(GET).read();
                }
                long single = (mx.getThreadAllocatedBytes(id) - before) / trips;
                System.out.println("allocated per request: pipelined " + pipelined + " B, one per read " + single
                        + " B (round " + round + ")");
                if (round == 1) {
                    assertTrue(pipelined < 4, "pipelined: " + pipelined + " bytes per request");
                    assertTrue(single < 16, "one request per read: " + single + " bytes per request");
                }
            }
        }
    }
}
