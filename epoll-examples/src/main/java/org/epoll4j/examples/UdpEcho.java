package org.epoll4j.examples;

import org.epoll4j.net.Datagram;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * {@code echo --udp}: every datagram goes back to its sender. Each batch of up to {@code --batch} datagrams comes
 * from one {@code recvmmsg}, and its echoes leave in one {@code sendmmsg} when the batch is handled. The echoes are
 * replies in place ({@link DatagramEndpoint#reply(Datagram)}): the sendmmsg points at the receive slots, so the
 * payload is not copied; only echoes the kernel did not take (a full socket buffer) are copied into the send queue
 * before the slots are reused. Nothing is allocated per datagram.
 */
final class UdpEcho {
    private UdpEcho() {
    }

    /** Echoes datagrams; one per endpoint. */
    static final class Handler implements DatagramHandler {
        long datagrams;
        long bytes;

        @Override
        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
            datagrams++;
            bytes += datagram.length();
            endpoint.reply(datagram);
        }
    }

    static int serve(ServerOptions options, int batch, PrintWriter out, PrintWriter err, CountDownLatch stop)
            throws InterruptedException {
        // 4 MiB socket buffers, as the UDP peers in the benchmark ask for: the datagrams in flight fit while busy
        DatagramConfig config = DatagramConfig.builder().batchSize(batch).maxDatagramSize(65_507)
                .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20).with(SockOpt.SO_SNDBUF, 4 << 20))
                .build();
        List<Handler> handlers = new CopyOnWriteArrayList<>();
        return UdpRunner.serve("echo", options, EchoServer.DEFAULT_PORT, config, i -> {
            Handler h = new Handler();
            handlers.add(h);
            return h;
        }, null, () -> handlers.stream().mapToLong(h -> h.datagrams).sum() + " datagrams, "
                + handlers.stream().mapToLong(h -> h.bytes).sum() + " bytes echoed", out, err, stop);
    }
}
