/* read-vs-recv: the cost of read(2) against recv(2) for the same 1 KiB on one loopback TCP connection.
 * Each round trip: the client sends 1 KiB, the server side reads it (read or recv: only this call is timed), sends
 * 1 KiB back, the client receives it (both directions busy, so TCP delays its ACKs as in a request/response load).
 * 20 rounds of N per call kind, interleaved; prints the minimum and the mean over the rounds, ns per call.
 * Build and run: gcc -O2 -o /tmp/read-vs-recv epoll-examples/bench/read-vs-recv.c && taskset -c 0 /tmp/read-vs-recv 20000
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <arpa/inet.h>
static inline unsigned long long ns(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ULL+t.tv_nsec;}
int main(int argc,char**argv){
  int n=atoi(argv[1]); int l=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};
  bind(l,(void*)&a,sizeof a); socklen_t al=sizeof a; getsockname(l,(void*)&a,&al); listen(l,1);
  int c=socket(AF_INET,SOCK_STREAM,0); connect(c,(void*)&a,sizeof a); int s=accept(l,0,0);
  int one=1; setsockopt(c,IPPROTO_TCP,TCP_NODELAY,&one,4); setsockopt(s,IPPROTO_TCP,TCP_NODELAY,&one,4);
  static char buf[65536], msg[1024];
  unsigned long long best[2]={~0ULL,~0ULL}, sum[2]={0,0};
  for(int rep=0;rep<20;rep++) for(int mode=0;mode<2;mode++){
    unsigned long long tr=0;
    for(int i=0;i<n;i++){ send(c,msg,1024,0); unsigned long long t0=ns(); ssize_t r= mode? recv(s,buf,sizeof buf,0) : read(s,buf,sizeof buf); tr+=ns()-t0;
      send(s,msg,1024,0); recv(c,buf,sizeof buf,0); if(r!=1024){printf("short %zd\n",r);} }
    if (tr < best[mode]) best[mode] = tr;
    sum[mode] += tr;
  }
  printf("read: min %llu ns, mean %llu ns; recv: min %llu ns, mean %llu ns\n", best[0]/n, sum[0]/n/20, best[1]/n, sum[1]/n/20);
}
