#!/usr/bin/perl
# Devices that send no SyncHdr/Source/LocName (omadm-sim --no-locname), as
# some clients do: the server has to find the user from the device id
# (Source/LocURI, the device the backend registered), protocol digest §5.1.
# First the simulator is shown to leave LocName out of every message and
# only that (a fake server records what it sends); then small fleets over
# real nginx and omadm-backend must complete every session, with every
# queued command correct, in MD5 (Cred) and HMAC (x-syncml-hmac, which
# names the user itself) - and Basic, whose Cred carries the user.
#
# Until the module authenticates an MD5 Cred without LocName, the MD5 fleet
# fails: every session ends auth_401 (the fix is being made in src/).  HMAC
# and Basic pass already: their username is in the header / the Cred.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built (run make)" unless -x $OmadmTest::SIM;

my $t = OmadmTest->new(locations => {
    '/omadm' => { omadm_auth => 'md5 basic' },
    '/hmac'  => { omadm_auth => 'hmac', omadm_challenge => 'hmac' },
})->start;
my $dir = $t->dir;

# ---- what the simulator sends: a fake server that refuses everything ----
OmadmTest::_write("$dir/devices.txt", "IMEI:3570001 nolocname pw-1\n", 0600);
for my $auth (qw(md5 basic hmac)) {
    for my $flag (0, 1) {
        my $port = $t->fake_upstream(keep => 1, answer =>
            "HTTP/1.1 500 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        my $r = $t->run_sim(url => "http://127.0.0.1:$port/omadm",
            devices_file => "$dir/devices.txt", auth => $auth, retries => 0,
            quiet => undef, ($flag ? (no_locname => undef) : ()));
        my @bodies = $t->fake_bodies($port);
        my $what = "$auth" . ($flag ? ' --no-locname' : '');
        ok(@bodies && $r->{exit} == 1, "$what: the fake server got package 1")
            or diag($r->{stderr});
        ok(!grep({ !m{<Source><LocURI>IMEI:3570001</LocURI>} } @bodies),
           "$what: Source/LocURI is the device id");
        if ($flag) {
            ok(!grep({ /LocName/ } @bodies), "$what: no LocName at all");
        } else {
            ok(!grep({ !m{<Source><LocURI>[^<]*</LocURI><LocName>nolocname</LocName>} }
                     @bodies), "$what: LocName = the username");
        }
    }
}

# ---- fleets through the module ------------------------------------------
# The sessions, the commands and their answers are those of t/sim.t: only
# the LocName is missing.
my %fleet = (devices => 6, sessions => 2, verify => 3);
my @run = (devices => $fleet{devices}, sessions => $fleet{sessions},
           verify => $fleet{verify}, quiet => undef, no_locname => undef,
           retries => 2, retry_cap_ms => 100);

my $r = $t->run_sim(@run, auth => 'basic', seed => 31, prefix => 'nlbasic');
$t->check_sim($r, %fleet, name => 'basic without LocName');

$r = $t->run_sim(@run, auth => 'md5', seed => 32, prefix => 'nlmd5');
$t->check_sim($r, %fleet, name => 'md5 without LocName');
is_deeply($r->{errors}, {}, 'md5 without LocName: no errors')
    or diag(explain($r->{errors}));

$r = $t->run_sim(@run, auth => 'hmac', seed => 33, prefix => 'nlhmac',
                 path => '/hmac');
$t->check_sim($r, %fleet, name => 'hmac without LocName');
is_deeply($r->{errors}, {}, 'hmac without LocName: no errors')
    or diag(explain($r->{errors}));

$t->check_error_log;
done_testing;
