#!/usr/bin/perl
# A device's MaxMsgSize of 16384 with a large queue, end to end through real
# nginx and omadm-backend, in XML and in WBXML.  An independent client
# (libdmclient) declares 16384 and gives up on any server message past its
# buffer, so every message the server sends must fit, whatever the commands
# hold: 200 queued commands of every verb, some with data that XML escaping
# multiplies (3000 bytes of "<&>" are 12 KB on the wire), multi-byte UTF-8,
# and one 40 KB Replace that can only go as a large object.  The package
# continues over many messages (no Final, the device asks for more with
# Alert 1222), the large object in MoreData chunks (answered 213), and
# every command arrives exactly once, in order, and ends done.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML;

my $MAX = 16384;
my $t = OmadmTest->new->start;

# bytes on the wire (WBXML: as received, before conversion to XML)
sub wire_len { my ($res) = @_; length($res->{raw_content} // $res->{content}) }

# The 200 commands: verb, target and data by position.
sub command {
    my ($i) = @_;
    my $target = "./Mx/N$i";
    return { verb => 'Get', target => $target } if $i % 10 == 1;
    return { verb => 'Replace', target => $target, format => 'chr',
             data => '<&>"\'' x 600 } if $i % 10 == 0;           # escapes grow it
    return { verb => 'Replace', target => $target, format => 'chr',
             data => "\x{e9}\x{20ac}\x{1f600}" x 600 } if $i % 10 == 2;  # 5400 bytes
    return { verb => 'Exec', target => $target, data => 'x' x 1000,
             correlator => "job-$i" } if $i % 10 == 3;
    return { verb => 'Add', target => $target, format => 'node' } if $i % 10 == 4;
    return { verb => 'Delete', target => $target } if $i % 10 == 5;
    return { verb => 'Replace', target => $target, format => 'chr',
             data => join('', map { chr(97 + $_ % 26) } 1 .. 40000) } if $i == 106;
    return { verb => 'Replace', target => $target, format => 'int', data => "$i" };
}

my $devno = 0;
for my $enc (qw(xml wbxml)) {
    my $id = 'IMEI:35700000000' . sprintf('%04d', ++$devno);
    my $d = $t->device(id => $id, user => "mms$enc", pass => "p$enc",
                       max_msg_size => $MAX);
    $d->{http} = OmadmTest::WBXML::http($d->{http}) if $enc eq 'wbxml';
    my @queued = map { command($_) } 1 .. 200;
    my @ids = map { $t->queue_command($id, $_) } @queued;

    $d->post($d->package1(cred => undef));
    my $res = $d->post($d->package1);
    my $r = $res->{syncml};
    is(OmadmTest::Device::hdr_status($r)->{Data}, '212', "$enc: authenticated");

    my (@sizes, @targets, @empty_more, %chunks);
    for (1 .. 1000) {
        push @sizes, wire_len($res);
        my @c = OmadmTest::Device::commands($r);
        last if !@c && $r->{final};
        my %codes;
        for my $c (@c) {
            my $item = $c->{items}[0];
            my $target = $item->{target};
            # a large object's chunks are one command: counted once, on
            # its last chunk; the others are answered 213
            if ($item->{more_data}) {
                $chunks{$target}++;
                $codes{$target} = 213;
                next;
            }
            push @targets, $target;
        }
        push @empty_more, $r->{hdr}{MsgID} if !$r->{final} && !@c;
        my %tree = map { $_->{items}[0]{target} => "value of $_->{items}[0]{target}" }
                   grep { $_->{name} eq 'Get' } @c;
        $res = $d->post($d->answer($r, tree => \%tree, codes => \%codes,
            alerts => $r->{final} ? [] : [ { code => 1222 } ]));
        $r = $res->{syncml};
        if ($res->{status} != 200) {
            fail("$enc: message answered: HTTP $res->{status} $res->{content}");
            last;
        }
    }
    ok($r->{final} && !OmadmTest::Device::commands($r),
       "$enc: the session ends with Final and nothing more");
    my @over = grep { $_ > $MAX } @sizes;
    is_deeply(\@over, [], "$enc: no server message over $MAX bytes (largest "
              . (sort { $b <=> $a } @sizes)[0] . ')');
    ok(@sizes > 10, "$enc: the package went over many messages (" . scalar(@sizes) . ')');
    is_deeply(\@empty_more, [], "$enc: every message without Final carries commands");
    ok($chunks{'./Mx/N106'} && $chunks{'./Mx/N106'} >= 2,
       "$enc: the 40 KB Replace went as a large object in chunks");
    is_deeply(\@targets, [ map { "./Mx/N$_" } 1 .. 200 ],
              "$enc: every command delivered once, in order");
    my @states = map { my $c = $t->get_command($id, $_); "$c->{state}:$c->{status}" } @ids;
    is_deeply([ grep { $states[$_] !~ /^done:200$/ } 0 .. $#states ], [],
              "$enc: the operator API shows all 200 done with 200");
    my $get = $t->get_command($id, $ids[0]);
    is($get->{results}[0]{data}, 'value of ./Mx/N1', "$enc: a Get's Result arrived");
}

$t->check_error_log;
done_testing;
