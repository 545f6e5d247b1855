package org.epoll4j.examples.loadgen;

import org.epoll4j.Reactor;
import org.epoll4j.net.DatagramEndpoint;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loadgen --udp} against an in-process datagram echo: it counts echoes, checks bytes, reports latency. */
@Timeout(120)
class UdpLoadTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new LoadGen());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new String[] {String.valueOf(status), out.toString(), err.toString()};
    }

    @Test
    void measuresAnEchoServer() throws Exception {
        Reactor reactor = Reactor.open();
        Thread t = reactor.start();
        try {
            DatagramEndpoint echo = DatagramEndpoint.open(reactor, new InetSocketAddress("127.0.0.1", 0),
                    (ep, d) -> ep.reply(d, d.data()));
            java.util.concurrent.CompletableFuture<Integer> port = new java.util.concurrent.CompletableFuture<>();
            reactor.execute(() -> {
                try {
                    port.complete(((InetSocketAddress) echo.localAddress()).getPort());
                } catch (Exception e) {
                    port.completeExceptionally(e);
                }
            });
            String[] r = run("--udp", "--port", String.valueOf(port.get()), "--connections", "2", "--depth", "4",
                    "--size", "100", "--warmup", "0.2", "--duration", "1");
            assertEquals("0", r[0], r[2]);
            Matcher m = Pattern.compile("dgrams_per_s=(\\d+) p50_us=([\\d.]+) .* lost=(\\d+) errors=0 ").matcher(r[1]);
            assertTrue(m.find(), r[1]);
            assertTrue(Long.parseLong(m.group(1)) > 0, r[1]);
            assertTrue(Double.parseDouble(m.group(2)) > 0, r[1]);
            echo.close();
        } finally {
            reactor.close();
            t.join(10_000);
        }
    }

    @Test
    void aTooSmallDatagramIsRefused() {
        String[] r = run("--udp", "--size", "8", "--duration", "1");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--size 16..65507"), r[2]);
    }
}
