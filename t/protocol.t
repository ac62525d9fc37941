#!/usr/bin/perl
# SyncML versions (answer in the device's version, refuse unknown ones),
# a repeated MsgID answered byte for byte from the session without a second
# backend exchange, and the $omadm_* variables in the access log.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new->start;

sub hdr { OmadmTest::Device::hdr_status($_[0]{syncml}) // {} }
sub code { hdr($_[0])->{Data} // "HTTP $_[0]{status}" }

# DM 1.1 and 1.2: the server answers in the version the device used
for my $v ('1.1', '1.2') {
    my $d = $t->device(id => "dev-v$v", user => "u$v", pass => 'p',
                       version => $v);
    for my $cred (undef, 'md5') {
        my $res = $d->post($d->package1(cred => $cred));
        my $r = $res->{syncml} or do { fail("DM $v: HTTP $res->{status}"); next };
        my $what = "DM $v " . ($cred ? 'with Cred' : 'without Cred');
        is($r->{ns}, "SYNCML:SYNCML$v", "$what: namespace");
        is($r->{hdr}{VerDTD}, $v, "$what: VerDTD");
        is($r->{hdr}{VerProto}, "DM/$v", "$what: VerProto");
        is(code($res), $cred ? '212' : '407', "$what: SyncHdr Status");
    }
}

# unsupported versions: a SyncHdr Status 505 (DTD) or 513 (protocol)
my @bad = (
    [ 'VerProto DM/9.9' => { ver_proto => 'DM/9.9' } ],
    [ 'SyncML 2.0'      => { ns => 'SYNCML:SYNCML2.0', ver_dtd => '2.0',
                             ver_proto => 'DM/2.0' } ],
);
for my $i (0 .. $#bad) {
    my ($case, $ver) = @{ $bad[$i] };
    my $d = $t->device(id => "dev-bad-$i", user => 'u', pass => 'p', %$ver);
    my $res = $d->post($d->package1(cred => undef));
    is($res->{status}, 200, "$case: HTTP 200");
    like(code($res), qr/^(505|513)$/, "$case: SyncHdr Status 505/513");
    is(scalar(OmadmTest::Device::commands($res->{syncml} || { cmds => [] })),
       0, "$case: no commands");
}

# a repeated MsgID gets the identical response, without the backend
my $id = 'dev-repeat';
my $d = $t->device(id => $id, user => 'ur', pass => 'pr', session => 'A7');
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
is(code($res), '212', 'authenticated');
my $exchanges = $t->backend_calls('exchange');
ok($exchanges > 0, "backend logged $exchanges exchange(s)");
my $again = $d->resend;
is($again->{content}, $res->{content},
   'repeated MsgID 2 -> byte-identical response');
is($t->backend_calls('exchange'), $exchanges,
   'the backend saw no second exchange');
$res = $d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '1.0' }));
is(code($res), '200', 'package 3 accepted');
my $c = $t->get_command($id, $cid);
is($c->{state}, 'done', 'command done');
is(scalar @{ $c->{results} || [] }, 1, 'one result recorded');

$t->stop_backend;    # a resend must not need the backend at all
$again = $d->resend;
is($again->{status}, 200, 'repeated MsgID 3 with the backend down -> 200');
is($again->{content}, $res->{content}, 'byte-identical response');
$t->start_backend;
$c = $t->get_command($id, $cid);
is(scalar @{ $c->{results} || [] }, 1, 'still one result recorded');

# $omadm_* variables
$t->access_log_like(qr/dev=dev-repeat sid=A7 msg=1 auth=missing/,
                    'access log: 407 message, auth=missing');
$t->access_log_like(qr/dev=dev-repeat sid=A7 msg=2 auth=ok/,
                    'access log: Cred message, auth=ok');
$t->access_log_like(qr/dev=dev-repeat sid=A7 msg=3 auth=session/,
                    'access log: in-session message, auth=session');

$t->check_error_log;
done_testing;
