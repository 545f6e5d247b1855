package org.epoll4j.readme;

import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.Datagram;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
import org.epoll4j.net.DatagramHandler;
import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles and runs the code blocks of docs/guide.md's "Datagrams" section, and checks that the guide still shows
 * exactly this code (each block sits between {@code // guide:NAME} and {@code // end} here).
 */
@org.junit.jupiter.api.Timeout(60)
class GuideDatagramsTest {
    private static final Path SELF = Path.of("src/test/java/org/epoll4j/readme/GuideDatagramsTest.java");

    @Test
    void theGuideShowsTheseBlocks() throws Exception {
        assertEquals(5, GuideBlocks.assertGuideShows(SELF));
    }

    @Test
    void echo() throws Exception {
        // guide:echo
        Reactor reactor = Reactor.open();
        DatagramEndpoint echo = DatagramEndpoint.open(reactor, new InetSocketAddress("127.0.0.1", 9999),
                (endpoint, datagram) -> endpoint.reply(datagram));   // each datagram back to its sender, in place
        reactor.start();                                                          // or reactor.run() on this thread
        // end
        echo.close();
        reactor.close();
    }

    @Test
    void config() throws Exception {
        // guide:config
        DatagramConfig config = DatagramConfig.builder()
                .batchSize(32)                          // datagrams per recvmmsg and per sendmmsg (default 64)
                .maxDatagramSize(1500)                  // receive slot size; longer ones are reported truncated
                .sendQueue(1 << 20, 1024)               // at most 1 MiB and 1,024 datagrams queued
                .writeWatermarks(256 * 1024, 512 * 1024)
                .sockOpts(SockOpts.empty().with(SockOpt.SO_RCVBUF, 4 << 20).with(SockOpt.SO_SNDBUF, 4 << 20))
                .build();
        DatagramEndpoint server = DatagramEndpoint.open(Reactor.open(), new InetSocketAddress("127.0.0.1", 0), config,
                new DatagramHandler() {
                    @Override
                    public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        if (endpoint.isWritable()) {
                            endpoint.reply(datagram);
                        }
                    }

                    @Override
                    public void onWritabilityChanged(DatagramEndpoint endpoint, boolean writable) {
                        // false: more than 512 KiB queued; true: back to 256 KiB or less
                    }
                });
        // end
        server.close();
        server.reactor().close();
    }

    @Test
    void packetInfo() throws Exception {
        // guide:packetInfo
        DatagramEndpoint dns = DatagramEndpoint.open(Reactor.open(), new InetSocketAddress("0.0.0.0", 0),
                DatagramConfig.builder().packetInfo(true).build(),
                (endpoint, query) -> endpoint.reply(query, query.data()));   // leaves from query.localAddress()
        // end
        dns.close();
        dns.reactor().close();
    }

    @Test
    void multicast() throws Exception {
        // guide:multicast
        Reactor reactor = Reactor.open();
        NetworkInterface lo = NetworkInterface.getByName("lo");
        InetAddress group = InetAddress.getByName("239.1.2.3");
        DatagramEndpoint member = DatagramEndpoint.open(reactor, new InetSocketAddress("0.0.0.0", 4446),
                (endpoint, datagram) -> System.out.println(datagram.length() + " bytes to the group"));
        member.joinGroup(group, lo);
        DatagramEndpoint sender = DatagramEndpoint.open(reactor, new InetSocketAddress("127.0.0.1", 0),
                DatagramConfig.builder().multicastInterface(InetAddress.getByName("127.0.0.1")).multicastLoop(true).build(),
                (endpoint, datagram) -> { });
        sender.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(group, 4446));
        // end
        member.close();
        sender.close();
        reactor.close();
    }

    @Test
    void everyCore() throws Exception {
        // guide:everyCore
        ReactorGroup group = ReactorGroup.open(4);
        List<DatagramEndpoint> endpoints = DatagramEndpoint.openOnEach(group, new InetSocketAddress("0.0.0.0", 9999),
                DatagramConfig.defaults(), () -> (endpoint, datagram) -> endpoint.reply(datagram));
        // end
        assertEquals(4, endpoints.size());
        group.close();
    }
}
