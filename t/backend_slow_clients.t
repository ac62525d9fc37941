#!/usr/bin/perl
# Slow clients cannot take omadm-backend's threads away from nginx and the
# operator: each request must bring its headers within --header-timeout
# (10 s by default) and its body within --body-timeout, whatever it
# trickles, and one client address holds at most --max-client-connections
# (32) connections; more are refused at once.
#
# 1. With the contract on the operator API's port (as without
#    --contract-listen), 12 connections from 127.0.0.1 and 40 from
#    127.0.0.2 send one header byte a second.  Meanwhile the operator API
#    answers and a device completes a session through nginx; the 8
#    connections from 127.0.0.2 past the cap are closed at once, the others
#    within the header deadline.
# 2. With --contract-listen unix:<dir>/contract/contract.sock the contract
#    lives on its own socket (mode 0660): a device session runs through it,
#    the operator port no longer serves /contract/ and the socket serves
#    nothing else.  A body trickled to the operator port and headers
#    trickled to the contract socket are cut off after their (short)
#    deadlines.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

sub hdr_code { OmadmTest::Device::hdr_status($_[0]{syncml})->{Data} }

# A forked child (stopped by PID with the harness's processes) that opens
# $o{clients} = [[$from, $n], ...] connections to $o{to} (a port, or
# "unix:/path" with $from undef), sends $o{head} and then one more byte a
# second, for at most $o{seconds}.  wait_trickle returns, per connection,
# { from, closed => seconds after connecting when the server closed it
# (undef: still open), answer => what the server sent }.
sub start_trickle {
    my ($t, %o) = @_;
    my $out = $t->dir . '/trickle-' . ++$t->{trickles};
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(TERM INT ALRM);
        my @c;
        for my $g (@{ $o{clients} }) {
            my ($from, $n) = @$g;
            for (1 .. $n) {
                my $s = $o{to} =~ /^unix:(.*)/
                    ? IO::Socket::UNIX->new(Peer => $1)
                    : IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                          PeerPort => $o{to}, LocalAddr => $from, Proto => 'tcp');
                $s or die "connect to $o{to}: $!\n";
                syswrite $s, $o{head};
                push @c, { s => $s, from => $from // 'unix', t0 => time, answer => '' };
            }
        }
        my $sel = IO::Select->new(map { $_->{s} } @c);
        my ($start, $tick) = (time, time + 1);
        while ($sel->count && time - $start < $o{seconds}) {
            for my $fh ($sel->can_read(($tick - time) > 0 ? $tick - time : 0)) {
                my ($c) = grep { $_->{s} == $fh } @c;
                my $n = sysread $fh, my $buf, 4096;
                if ($n) { $c->{answer} .= $buf; next }
                $c->{closed} = time - $c->{t0};    # EOF or reset
                $sel->remove($fh);
            }
            next if time < $tick;
            $tick += 1;
            for my $c (grep { !defined $_->{closed} } @c) {
                next if syswrite $c->{s}, 'a';
                $c->{closed} = time - $c->{t0};
                $sel->remove($c->{s});
            }
        }
        OmadmTest::_write($out, join '', map {
            my $a = $_->{answer} =~ m{^HTTP/1\.1 (\d+)} ? $1 : '-';
            "$_->{from} " . (defined $_->{closed} ? sprintf('%.1f', $_->{closed}) : 'open')
                . " $a\n" } @c);
        POSIX::_exit(0);
    }
    push @{ $t->{fakes} }, $pid;
    return { pid => $pid, out => $out };
}

sub wait_trickle {
    my ($t, $tr) = @_;
    waitpid($tr->{pid}, 0);
    @{ $t->{fakes} } = grep { $_ != $tr->{pid} } @{ $t->{fakes} };
    return map { my ($from, $closed, $answer) = split;
                 { from => $from, closed => $closed eq 'open' ? undef : $closed,
                   answer => $answer } }
           split /\n/, OmadmTest::_slurp($tr->{out});
}

# A device's whole session: 407, 212 with a queued Get, its Results.
sub device_session {
    my ($t, $id, $what) = @_;
    my $d = $t->device(id => $id, user => "u-$id", pass => 'p');
    my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
    my $res = $d->post($d->package1(cred => undef));
    is(hdr_code($res) // "HTTP $res->{status}", '407', "$what: 407");
    $res = $d->post($d->package1);
    is(hdr_code($res) // "HTTP $res->{status}", '212', "$what: 212");
    $res = $d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '1.0' }))
        if $res->{syncml};
    is($t->get_command($id, $cid)->{state}, 'done', "$what: the Get is done");
}

my $SLOW = "GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
my ($HEADER_TIMEOUT, $CAP, $SLACK) = (10, 32, 4);    # defaults; slack for the poller

# --- 1. slow headers on the shared port ----------------------------------------

my $t = OmadmTest->new->start;
my $tr = start_trickle($t, to => $t->api_port, head => $SLOW, seconds => 40,
                       clients => [ [ '127.0.0.1', 12 ], [ '127.0.0.2', $CAP + 8 ] ]);
sleep 1;    # all connected and trickling

my ($st, $list) = $t->api(GET => '/devices');
is($st, 200, 'while 52 connections trickle: the operator API answers');
device_session($t, 'IMEI:slow-1', 'while they trickle, a device session');

my @c = wait_trickle($t, $tr);
is(scalar @c, 12 + $CAP + 8, 'all slow connections were made');
my @local = grep { $_->{from} eq '127.0.0.1' } @c;
my @other = grep { $_->{from} eq '127.0.0.2' } @c;
my @at_once = grep { defined $_->{closed} && $_->{closed} < 2 } @other;
is(scalar @at_once, 8, "127.0.0.2: the 8 connections past --max-client-connections $CAP closed at once");
# (a reset may overtake the answer: the refused client's request is unread)
my @answers = map { $_->{answer} } @at_once;
ok((grep { $_ eq '503' } @answers) && !(grep { $_ ne '503' && $_ ne '-' } @answers),
   '... with 503 (unless a reset overtook it)') or diag "@answers";
my @late = grep { !defined $_->{closed} || $_->{closed} > $HEADER_TIMEOUT + $SLACK }
           @local, @other;
is(scalar @late, 0, "every other one closed within --header-timeout $HEADER_TIMEOUT s")
    or diag explain \@late;
is(scalar(grep { defined $_->{closed} && $_->{closed} >= $HEADER_TIMEOUT - 1 } @local), 12,
   '... and not before: the 12 from 127.0.0.1 were cut off by the deadline');
is(join(',', sort { $a <=> $b } keys %{{ map { $_->{answer} => 1 } @local }}), '408',
   '... with 408 (their request line had come)');
like($t->backend_log, qr/127\.0\.0\.2: refused, \Q$CAP\E connections open/,
     'the backend logs the refusals');
like($t->backend_log,
     qr/127\.0\.0\.1: closed, request headers not complete within \Q$HEADER_TIMEOUT\E s/,
     'and the cut-offs');
$t->check_error_log;
$t->stop;

# --- 2. the contract on its own socket -----------------------------------------

my $u = OmadmTest->new(contract_socket => 1,
    backend_args => [ '--header-timeout', 2, '--body-timeout', 2 ])->start;
(my $sock = $u->contract_upstream) =~ s/^unix://;
ok(-S $sock, 'the contract socket exists');
is(sprintf('%04o', (stat $sock)[2] & 07777), '0660', '... mode 0660');
is((stat $sock)[5], scalar getgrnam('nogroup'), "... in its directory's group")
    if $> == 0;
device_session($u, 'IMEI:split-1', 'contract on its own socket, a device session');

# one raw HTTP/1.1 request on a socket; returns the status
sub raw_status {
    my ($s, $method, $path, $header, $body) = @_;
    $body //= '';
    print $s "$method $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n$header"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    local $/;
    my $answer = <$s> // '';
    return $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'none';
}
my $key = OmadmTest::_slurp($u->dir . '/contract.key');
my $auth = '{"device_id":"IMEI:split-1","username":""}';
is(raw_status(IO::Socket::INET->new("127.0.0.1:" . $u->api_port), POST => '/contract/auth',
              "X-Omadm-Key: $key\r\n", $auth),
   404, 'split: the operator port does not serve /contract/ (404)');
is(raw_status(IO::Socket::UNIX->new(Peer => $sock), POST => '/contract/auth',
              "X-Omadm-Key: $key\r\n", $auth),
   200, '... the contract socket does');
is(raw_status(IO::Socket::UNIX->new(Peer => $sock), GET => '/api/v1/devices',
              "Authorization: Bearer $u->{token}\r\n"),
   404, '... and serves no operator API');

my $body_tr = start_trickle($u, to => $u->api_port, seconds => 20,
    head => "POST /api/v1/devices HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    clients => [ [ '127.0.0.1', 2 ] ]);
my $head_tr = start_trickle($u, to => "unix:$sock", head => $SLOW, seconds => 20,
                            clients => [ [ undef, 2 ] ]);
for my $r ([ $body_tr, 'a body trickled to the operator port', '408' ],
           [ $head_tr, 'headers trickled to the contract socket', '408' ]) {
    my ($which, $what, $answer) = @$r;
    my @w = wait_trickle($u, $which);
    is(scalar(grep { defined $_->{closed} && $_->{closed} <= 2 + $SLACK } @w), 2,
       "$what: closed within the 2 s deadline") or diag explain \@w;
    # (a reset may overtake the answer: the trickle goes on writing, so the
    # backend closes on unread bytes)
    my @answers = map { $_->{answer} } @w;
    ok(!(grep { $_ ne $answer && $_ ne '-' } @answers),
       "... with $answer (unless a reset overtook it)") or diag "@answers";
}
like($u->backend_log, qr/127\.0\.0\.1: closed, request body not complete within 2 s/,
     'the backend logs the body deadline');
device_session($u, 'IMEI:split-2', 'afterwards, another device session');
$u->check_error_log;

done_testing;
