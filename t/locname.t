#!/usr/bin/perl
# Clients that send no SyncHdr/Source/LocName (most real ones: Windows,
# libdmclient) log in with MD5 and HMAC, against real nginx and
# omadm-backend, in XML and WBXML, the way such a client does it:
#
# * its first message carries a Cred (or an x-syncml-hmac) made with an
#   empty nonce, as it has none yet: a 401 with a fresh 16-byte nonce,
#   "stale", never counted towards omadm_auth_failures;
# * it echoes Status 212 for the server's SyncHdr after that 401;
# * the next session logs in at once with the NextNonce of the 212;
# * a device speaking HMAC is challenged in HMAC, where the location
#   accepts it, whatever omadm_challenge says;
# * a LocName that is not the registered user name is a failed login.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64);
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML;

# as make run's location: every scheme accepted, MD5 challenged
my $t = OmadmTest->new(locations => {
    '/omadm' => { omadm_auth => 'md5 hmac basic', omadm_challenge => 'md5',
                  omadm_auth_failures => '2 60s' },
})->start;

sub hs { OmadmTest::Device::hdr_status($_[0]{syncml} || { cmds => [] }) || {} }
sub chal { hs($_[0])->{chal} || {} }

sub nonce_ok {
    my ($nonce, $what) = @_;
    ok(defined $nonce && $nonce =~ /==$/ && length(decode_base64($nonce)) == 16,
       "$what: a 16-byte nonce (base64 ending in ==)");
}

my $n = 0;
sub client {
    my (%o) = @_;
    my $enc = delete $o{enc};
    my $hmac = delete $o{hmac};
    my $id = 'IMEI:noloc-' . ++$n;
    $t->register_device($id, 'dev1', 'secret');
    my $d = $t->device(register => 0, id => $id, user => 'dev1',
                       pass => 'secret', no_locname => 1,
                       ($hmac ? (auth => undef) : ()), %o);
    $d->{http} = OmadmTest::Device::hmac_http($d, $d->{http}) if $hmac;
    $d->{http} = OmadmTest::WBXML::http($d->{http}) if $enc eq 'wbxml';
    return $d;
}

for my $enc (qw(xml wbxml)) {
    # MD5, the first message without Cred
    my $d = client(enc => $enc);
    my $get = $t->queue_command($d->{id}, { verb => 'Get',
                                            target => './DevDetail/SwV' });
    my $res = $d->post($d->package1(cred => undef));
    is(hs($res)->{Data}, '407', "$enc md5: no Cred -> 407");
    nonce_ok(chal($res)->{NextNonce}, "$enc md5: the 407");
    unlike($d->{last_request}{xml}, qr/LocName/, "$enc md5: no LocName sent");
    $res = $d->post($d->package1);
    is(hs($res)->{Data}, '212', "$enc md5 without LocName: 212");
    nonce_ok(chal($res)->{NextNonce}, "$enc md5: the 212's NextNonce");
    $res = $d->post($d->answer($res->{syncml},
                               tree => { './DevDetail/SwV' => '7.1' }));
    is(hs($res)->{Data}, '200', "$enc md5: in session");
    is($t->get_command($d->{id}, $get)->{state}, 'done', "$enc md5: Get done");
    # the next session with the NextNonce of the first, twice
    for my $s (2, 3) {
        $d->new_session;
        $res = $d->post($d->package1);
        is(hs($res)->{Data}, '212', "$enc md5: session $s with the rotated nonce: 212");
        nonce_ok(chal($res)->{NextNonce}, "$enc md5: session $s NextNonce");
    }

    # MD5, the first message with a Cred over the empty nonce (it has none),
    # three times: more than omadm_auth_failures, yet never throttled
    $d = client(enc => $enc);
    for my $try (1 .. 3) {
        $d->new_session;
        $d->{nonce} = undef;
        $res = $d->post($d->package1);
        is(hs($res)->{Data}, '401', "$enc md5: Cred over the empty nonce ($try): 401");
        is(chal($res)->{Type}, 'syncml:auth-md5', "$enc md5: ... challenged md5");
        nonce_ok(chal($res)->{NextNonce}, "$enc md5: ... the challenge");
    }
    $t->access_log_like(qr/dev=\Q$d->{id}\E .*auth=stale/,
                        "$enc md5: logged as stale, not failed");
    # the retry echoes 212 for our SyncHdr, as libdmclient does
    $d->{hdr_reply} = { code => 212 };
    $res = $d->post($d->package1);
    is(hs($res)->{Data}, '212', "$enc md5: the retry with the nonce given: 212");

    # HMAC without LocName: the first MAC over the empty nonce is stale,
    # challenged in HMAC although omadm_challenge says md5
    $d = client(enc => $enc, hmac => 1);
    $get = $t->queue_command($d->{id}, { verb => 'Get',
                                         target => './DevDetail/SwV' });
    $res = $d->post($d->package1(cred => undef));
    is(hs($res)->{Data}, '401', "$enc hmac: a MAC over the empty nonce: 401");
    is(chal($res)->{Type}, 'syncml:auth-MAC', "$enc hmac: ... challenged in HMAC");
    nonce_ok(chal($res)->{NextNonce}, "$enc hmac: ... the challenge");
    $res = $d->post($d->package1(cred => undef));
    is(hs($res)->{Data}, '212', "$enc hmac without LocName: 212");
    $res = $d->post($d->answer($res->{syncml},
                               tree => { './DevDetail/SwV' => '7.2' }));
    is(hs($res)->{Data}, '200', "$enc hmac: the next signed message: 200");
    is($t->get_command($d->{id}, $get)->{state}, 'done', "$enc hmac: Get done");

    # a LocName other than the registered user: a failed login
    $d = client(enc => $enc, no_locname => 0, locname => 'intruder');
    $d->post($d->package1(cred => undef));
    $res = $d->post($d->package1);
    is(hs($res)->{Data}, '401', "$enc: LocName not the registered user: 401");
    $t->access_log_like(qr/dev=\Q$d->{id}\E .*auth=failed/,
                        "$enc: ... logged as failed");
}

# A device that tried MD5 where MD5 is challenged anyway, and one that
# tried Basic where Basic is accepted, are challenged in their schemes.
{
    my $d = client(enc => 'xml', auth => 'basic', pass => 'wrong');
    my $res = $d->post($d->package1);
    is(chal($res)->{Type}, 'syncml:auth-basic',
       'a wrong Basic Cred is challenged in Basic');
}

$t->check_error_log;
done_testing;
