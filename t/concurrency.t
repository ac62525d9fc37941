#!/usr/bin/perl
# Many devices at once: complete sessions in parallel across two workers
# (session state in the shared zone, RespURI routing) and the backend's
# concurrent writers; every result lands on the right command.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use OmadmTest;
use OmadmTest::Device;

my $N = 12;
my $t = OmadmTest->new->start;

my (%cid, %dev);
for my $i (1 .. $N) {
    my $id = "IMEI:35000000000$i";
    $dev{$i} = $t->device(id => $id, user => "u$i", pass => "p$i");
    $cid{$i} = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
}

# one child per device; a child reports through its exit code only, and
# leaves with _exit so it never runs the harness's END (which would stop
# the servers)
sub session {
    my ($d, $i) = @_;
    my $code = sub { (OmadmTest::Device::hdr_status($_[0]{syncml}) // {})->{Data} // '' };
    my $res = $d->post($d->package1(cred => undef));
    return 1 unless $code->($res) eq '407';
    $res = $d->post($d->package1);
    return 2 unless $code->($res) eq '212';
    return 3 unless OmadmTest::Device::commands($res->{syncml}) == 1;
    $res = $d->post($d->answer($res->{syncml},
                               tree => { './DevDetail/SwV' => "sw-$i" }));
    return 4 unless $code->($res) eq '200';
    return 0;
}

my %pid;
for my $i (1 .. $N) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $rc = eval { session($dev{$i}, $i) } // 9;
        POSIX::_exit($rc);
    }
    $pid{$pid} = $i;
}
my %rc;
for my $pid (keys %pid) {    # not wait(): nginx and the backend are children too
    waitpid($pid, 0);
    $rc{ $pid{$pid} } = $? >> 8;
}
is_deeply([ grep { $rc{$_} } sort { $a <=> $b } keys %rc ], [],
          "$N parallel sessions completed")
    or diag(join ', ', map { "device $_: step $rc{$_}" } grep { $rc{$_} } keys %rc);

my @wrong = grep {
    my $c = $t->get_command("IMEI:35000000000$_", $cid{$_});
    !($c->{state} eq 'done' && @{ $c->{results} } == 1
      && $c->{results}[0]{data} eq "sw-$_")
} 1 .. $N;
is_deeply(\@wrong, [], 'each result recorded once on its own command');

$t->check_error_log;
done_testing;
