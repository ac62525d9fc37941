#!/usr/bin/perl
# Copy, Atomic, Sequence, user-interaction alerts 1100-1104, Generic Alert
# 1226 linked to its Exec, and session abort (Alert 1223) both ways, end to
# end through real nginx and omadm-backend, in XML and in WBXML: what the
# operator queues reaches the device as SyncML (nested commands with their
# own CmdIDs, Copy's Source, the alert Items), and every Status, Result and
# alert answer the device gives comes back on its own command id.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::SyncML qw(xml_escape);
use OmadmTest::WBXML;
use HTTP::Tiny;
use JSON::PP;

my $t = OmadmTest->new->start;

sub cmds { OmadmTest::Device::commands($_[0]) }
sub hdr_code { OmadmTest::Device::hdr_status($_[0])->{Data} }

sub flatten { OmadmTest::Device::flatten(@_) }

# The device's reply to server message $r: SyncHdr Status, then for each
# command (nested ones too) what $how->($cmd) says: { code, items =>
# [data..], result => data (Results for a Get) }.
sub reply {
    my ($d, $r, $how, %o) = @_;
    $d->{msg_id}++;
    my $n = 1;
    my $body = $d->_hdr_status($r, $n++);
    my $results = '';
    for my $c (flatten(cmds($r))) {
        my $a = $how->($c);
        my $target = $c->{items}[0] ? $c->{items}[0]{target} // '' : '';
        $body .= "<Status><CmdID>" . $n++ . "</CmdID>"
            . "<MsgRef>$r->{hdr}{MsgID}</MsgRef>"
            . "<CmdRef>" . xml_escape($c->{CmdID}) . "</CmdRef>"
            . "<Cmd>$c->{name}</Cmd><Data>$a->{code}</Data>"
            . join('', map { "<Item><Data>" . xml_escape($_) . "</Data></Item>" }
                       @{ $a->{items} || [] })
            . "</Status>";
        next unless defined $a->{result};
        $results .= "<Results><CmdID>" . $n++ . "</CmdID>"
            . "<MsgRef>$r->{hdr}{MsgID}</MsgRef>"
            . "<CmdRef>" . xml_escape($c->{CmdID}) . "</CmdRef>"
            . "<Item><Source><LocURI>" . xml_escape($target) . "</LocURI></Source>"
            . "<Data>" . xml_escape($a->{result}) . "</Data></Item></Results>";
    }
    $body .= $results;
    $body .= $d->alert($n++, $_) for @{ $o{alerts} || [] };
    return $d->_wrap($d->header, $body);
}

sub api_command { my ($id, $cid) = @_; return $t->get_command($id, $cid) }

sub state_of {
    my ($c) = @_;
    return "$c->{state}:" . ($c->{status} // '-');
}

# ---------------------------------------------------------------------------
# Operator API validation (once).

my $vid = 'IMEI:100000000000001';
$t->register_device($vid, 'v', 'vpass');
my $vp = '/devices/' . OmadmTest::uri_escape($vid) . '/commands';
my $deep = { verb => 'Get', target => './X' };
$deep = { verb => 'Atomic', commands => [ $deep ] } for 1 .. 5;
my @bad = (
    [ { verb => 'Copy', target => './A' }, qr/"source"/, 'Copy without source' ],
    [ { verb => 'Copy', target => './A', source => '/abs' }, qr/"source" must be a node URI/,
      'Copy with an absolute source' ],
    [ { verb => 'Get', target => './A', source => './B' }, qr/"source" is only meaningful for Copy/,
      'source on a Get' ],
    [ { verb => 'Atomic' }, qr/"commands" must be a non-empty list/, 'Atomic without commands' ],
    [ { verb => 'Sequence', commands => [] }, qr/non-empty/, 'empty Sequence' ],
    [ { verb => 'Atomic', target => './A', commands => [ { verb => 'Get', target => './A' } ] },
      qr/"target" is not used by/, 'Atomic with a target' ],
    [ { verb => 'Sequence', commands => [ { verb => 'Get', target => './A' },
                                          { verb => 'Fetch', target => './B' } ] },
      qr/^commands\[1\]: "verb" must be one of/, 'bad nested verb, with its place' ],
    [ $deep, qr/at most 4 levels/, 'five levels of Atomic' ],
    [ { verb => 'Atomic', commands => [ map { { verb => 'Get', target => "./N$_" } } 1 .. 101 ] },
      qr/at most 100 commands/, '101 nested commands' ],
    [ { verb => 'Alert', data => '1105', text => 'x' }, qr/"data" must be its code/, 'unknown alert code' ],
    [ { verb => 'Alert', data => 1101 }, qr/needs "text"/, 'confirm without text' ],
    [ { verb => 'Alert', data => 1103, text => 'Pick' }, qr/needs "choices"/, 'choice without choices' ],
    [ { verb => 'Alert', data => 1101, text => 'x', choices => [ 'a' ] },
      qr/only for Alerts 1103 and 1104/, 'choices on a confirm' ],
    [ { verb => 'Alert', data => 1100, text => 'x', options => { MAXLEN => 3 } },
      qr/"MAXLEN" is only for text input/, 'MAXLEN on a display' ],
    [ { verb => 'Alert', data => 1102, text => 'x', options => { IT => 'Q' } },
      qr/"IT" must be one of/, 'bad input type' ],
    [ { verb => 'Alert', data => 1100, text => 'x', options => { FOO => 1 } },
      qr/unknown alert option "FOO"/, 'unknown option' ],
    [ { verb => 'Alert', data => 1100, text => 'x', options => { MINDT => -1 } },
      qr/"MINDT" must be a non-negative integer/, 'negative MINDT' ],
    [ { verb => 'Alert', data => 1100, target => './A', text => 'x' },
      qr/"target" is not used by Alert/, 'Alert with a target' ],
    [ { verb => 'Alert', data => 1223, text => 'bye' }, qr/not used by a session abort/,
      'abort with text' ],
    [ { verb => 'Sequence', commands => [ { verb => 'Alert', data => 1223 } ] },
      qr/^commands\[0\]: a session abort .* cannot be nested/, 'nested abort' ],
);
for my $b (@bad) {
    my ($body, $re, $what) = @$b;
    my ($st, $res) = $t->api(POST => $vp, $body);
    is($st, 400, "400: $what");
    like(ref $res ? $res->{error} : $res, $re, "... says why");
}
my ($st, $ok) = $t->api(POST => $vp, { verb => 'Alert', data => 1102, text => 'PIN?',
    options => { MINDT => 10, MAXDT => '30', DR => 'a b&c', MAXLEN => 4, IT => 'N', ET => 'P' } });
is($st, 201, 'text input with every option: 201');
is($ok->{options}, 'MINDT=10&MAXDT=30&DR=a%20b%26c&MAXLEN=4&IT=N&ET=P',
   '... options URL-encoded in a fixed order');
($st, $ok) = $t->api(POST => $vp, { verb => 'Alert', data => '1101', text => 'OK?',
                                    options => 'MINDT=5&DR=1' });
is("$st $ok->{options}", '201 MINDT=5&DR=1', 'options as a string: kept as given');

# The contract: a Status's items must be a list of objects of strings.
sub contract_exchange {
    my ($status) = @_;
    my $r = HTTP::Tiny->new(timeout => 10)->post(
        "http://127.0.0.1:" . $t->api_port . "/contract/exchange",
        { headers => { 'X-Omadm-Key' => $t->{key}, 'Content-Type' => 'application/json' },
          content => JSON::PP->new->encode({ device_id => $vid, session_id => '9',
              msg_id => '2', statuses => [ $status ], max_commands => 0 }) });
    return ($r->{status}, eval { JSON::PP->new->decode($r->{content}) } // {});
}
($st, $ok) = contract_exchange({ command_id => '1', status => 200, items => 'x' });
is($st, 400, 'contract: a Status with items that are not a list: 400');
like($ok->{error}, qr/"items" must be an array/, '... says why');
($st, $ok) = contract_exchange({ command_id => '1', status => 200, items => [ { data => 5 } ] });
is($st, 400, 'contract: an item whose data is not a string: 400');
($st, $ok) = contract_exchange({ command_id => '1', status => 200,
                                 items => [ { data => '2' } ] });
is($st, 200, 'contract: a Status with items: 200');

# ---------------------------------------------------------------------------
# The whole set, in XML and in WBXML.

my $devno = 0;
for my $enc (qw(xml wbxml)) {
    my $id = 'IMEI:35000000000' . sprintf('%04d', ++$devno);
    my $d = $t->device(id => $id, user => "u$enc", pass => "p$enc");
    $d->{http} = OmadmTest::WBXML::http($d->{http}) if $enc eq 'wbxml';
    my $q = sub { $t->queue_command($id, $_[0]) };

    my %cid;
    $cid{copy} = $q->({ verb => 'Copy', target => './A/new', source => './A/old' });
    (undef, my $atomic) = $t->api(POST => '/devices/' . OmadmTest::uri_escape($id) . '/commands',
        { verb => 'Atomic', commands => [
            { verb => 'Replace', target => './B/1', data => '1', format => 'int' },
            { verb => 'Add', target => './B/2', format => 'node' },
            { verb => 'Delete', target => './B/3' } ] });
    $cid{atomic} = $atomic->{id};
    my @achild = map { $_->{id} } @{ $atomic->{commands} };
    is(scalar @achild, 3, "$enc: Atomic created with three children");
    is_deeply([ map { $_->{parent} } @{ $atomic->{commands} } ], [ ($cid{atomic}) x 3 ],
              "$enc: ... each naming its parent");
    (undef, my $seq) = $t->api(POST => '/devices/' . OmadmTest::uri_escape($id) . '/commands',
        { verb => 'Sequence', commands => [
            { verb => 'Get', target => './S/1' },
            { verb => 'Atomic', commands => [ { verb => 'Get', target => './S/2' } ] },
            { verb => 'Replace', target => './S/3', data => 'x' } ] });
    $cid{seq} = $seq->{id};
    my ($sget1, $sinner, $sreplace) = map { $_->{id} } @{ $seq->{commands} };
    my $sget2 = $seq->{commands}[1]{commands}[0]{id};
    $cid{display} = $q->({ verb => 'Alert', data => 1100, text => 'Hello',
                           options => { MINDT => 5 } });
    $cid{confirm} = $q->({ verb => 'Alert', data => 1101, text => 'Install?',
                           options => { DR => 0 } });
    $cid{input} = $q->({ verb => 'Alert', data => 1102, text => 'PIN?',
                         options => { MAXLEN => 6, IT => 'N', ET => 'P' } });
    $cid{cancel} = $q->({ verb => 'Alert', data => 1102, text => 'Name?' });
    $cid{single} = $q->({ verb => 'Alert', data => 1103, text => 'Pick one',
                          choices => [ 'Red', 'Green', 'Blue' ] });
    $cid{multi} = $q->({ verb => 'Alert', data => 1104, text => 'Pick some',
                         choices => [ 'A', 'B', 'C' ], options => { DR => '1-3' } });
    $cid{exec} = $q->({ verb => 'Exec', target => './FwUpdate/P/Update',
                        correlator => "job-$enc" });

    my ($st, $list) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/commands');
    is(scalar @$list, 10, "$enc: the command list holds the top-level commands only");

    $d->post($d->package1(cred => undef));
    my $res = $d->post($d->package1);
    my $r = $res->{syncml};
    is(hdr_code($r), '212', "$enc: authenticated");
    my @top = cmds($r);
    is_deeply([ map { $_->{name} } @top ],
              [ qw(Copy Atomic Sequence Alert Alert Alert Alert Alert Alert Exec) ],
              "$enc: the ten commands in order");
    my @all = flatten(@top);
    is(scalar @all, 17, "$enc: seventeen commands with the nested ones");
    my %ids;
    $ids{$_->{CmdID}}++ for @all, grep { $_->{name} eq 'Status' } @{ $r->{cmds} };
    is(scalar(grep { $_ > 1 } values %ids), 0, "$enc: every CmdID unique in the message");

    my $copy = $top[0];
    is_deeply([ @{ $copy->{items}[0] }{qw(target source)} ], [ './A/new', './A/old' ],
              "$enc: Copy carries Target and Source");
    is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } @{ $top[1]{kids} } ],
              [ 'Replace ./B/1', 'Add ./B/2', 'Delete ./B/3' ], "$enc: Atomic's nested commands");
    is($top[1]{kids}[0]{items}[0]{format}, 'int', "$enc: ... with their Meta");
    is_deeply([ map { $_->{name} } @{ $top[2]{kids} } ], [ qw(Get Atomic Replace) ],
              "$enc: Sequence's nested commands, an Atomic among them");
    my @alerts = @top[3 .. 8];
    is_deeply([ map { $_->{Data} } @alerts ], [ qw(1100 1101 1102 1102 1103 1104) ],
              "$enc: the alert codes");
    is_deeply([ map { [ map { $_->{data} // '' } @{ $_->{items} } ] } @alerts ],
              [ [ 'MINDT=5', 'Hello' ], [ 'DR=0', 'Install?' ],
                [ 'MAXLEN=6&IT=N&ET=P', 'PIN?' ], [ '', 'Name?' ],
                [ '', 'Pick one', 'Red', 'Green', 'Blue' ],
                [ 'DR=1-3', 'Pick some', 'A', 'B', 'C' ] ],
              "$enc: alert Items: options, text, choices (empty Item without options)");

    # the device's answers
    my %by_target = (
        './A/new' => { code => 200 },
        './B/1' => { code => 216 }, './B/2' => { code => 500 }, './B/3' => { code => 216 },
        './S/1' => { code => 200, result => 'one' }, './S/2' => { code => 200, result => 'two' },
        './S/3' => { code => 200 }, './FwUpdate/P/Update' => { code => 202 },
    );
    my %by_alert = (
        Hello => { code => 200 }, 'Install?' => { code => 304 },
        'PIN?' => { code => 200, items => [ '1234' ] }, 'Name?' => { code => 214 },
        'Pick one' => { code => 200, items => [ '2' ] },
        'Pick some' => { code => 200, items => [ '1', '3' ] },
    );
    my $how = sub {
        my ($c) = @_;
        return { code => 507 } if $c->{name} eq 'Atomic' && $c->{kids}[0]{name} eq 'Replace';
        return { code => 200 } if $c->{name} =~ /^(Atomic|Sequence)$/;
        return $by_alert{ $c->{items}[1]{data} } if $c->{name} eq 'Alert';
        return $by_target{ $c->{items}[0]{target} };
    };
    $res = $d->post(reply($d, $r, $how));
    is(hdr_code($res->{syncml}), '200', "$enc: answers accepted");
    ok(!cmds($res->{syncml}) && $res->{syncml}{final}, "$enc: nothing more, Final");

    my %want = (
        copy => 'done:200', atomic => 'failed:507', seq => 'done:200',
        display => 'done:200', confirm => 'failed:304', input => 'done:200',
        cancel => 'done:214', single => 'done:200', multi => 'done:200', exec => 'done:202',
    );
    is_deeply({ map { ($_ => state_of(api_command($id, $cid{$_}))) } keys %want }, \%want,
              "$enc: every top-level command's own Status");
    is_deeply([ map { state_of(api_command($id, $_)) } @achild ],
              [ 'done:216', 'failed:500', 'done:216' ],
              "$enc: Atomic's children: 216 rolled back, 500 the failing one");
    my $a = api_command($id, $cid{atomic});
    is_deeply([ map { state_of($_) } @{ $a->{commands} } ],
              [ 'done:216', 'failed:500', 'done:216' ], "$enc: ... also inside the Atomic");
    is_deeply([ map { state_of(api_command($id, $_)) } $sget1, $sinner, $sget2, $sreplace ],
              [ ('done:200') x 4 ], "$enc: Sequence's children done");
    is_deeply([ map { $_->{data} } @{ api_command($id, $sget1)->{results} } ], [ 'one' ],
              "$enc: first Get's Result on its id");
    is_deeply([ map { [ $_->{source}, $_->{data} ] } @{ api_command($id, $sget2)->{results} } ],
              [ [ './S/2', 'two' ] ], "$enc: nested Get's Result on its id");
    is_deeply([ map { $_->{data} } @{ api_command($id, $cid{input})->{results} } ], [ '1234' ],
              "$enc: text input reaches the operator");
    is_deeply([ map { $_->{data} } @{ api_command($id, $cid{single})->{results} } ], [ '2' ],
              "$enc: single choice");
    is_deeply([ map { $_->{data} } @{ api_command($id, $cid{multi})->{results} } ], [ '1', '3' ],
              "$enc: multiple choices");
    is_deeply(api_command($id, $cid{confirm})->{results}, [], "$enc: a No has no results");
    my $alert_api = api_command($id, $cid{single});
    is_deeply([ @$alert_api{qw(data text choices)} ], [ '1103', 'Pick one', [ qw(Red Green Blue) ] ],
              "$enc: the Alert as queued in the operator API");
    is(api_command($id, $cid{copy})->{source}, './A/old', "$enc: Copy's source in the API");

    # the Exec's asynchronous outcome: a Generic Alert with three Items, in
    # a session that the server then aborts (Alert 1223 queued first)
    my $abort = $q->({ verb => 'Alert', data => 1223 });
    my $after = $q->({ verb => 'Get', target => './After' });
    $d->new_session;
    my $ga = { code => '1226', correlator => "job-$enc", items => [
        map { { source => "./FwUpdate/P/State$_", type => 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
                format => 'int', mark => 'critical', data => 200 + $_ } } 1 .. 3 ] };
    $res = $d->post($d->package1(alerts => [ $ga ]));
    $r = $res->{syncml};
    is(hdr_code($r), '212', "$enc: new session with a Generic Alert");
    my $exec = api_command($id, $cid{exec});
    is(scalar @{ $exec->{alerts} || [] }, 1, "$enc: the Exec gains the alert of its Correlator");
    is_deeply([ map { [ $_->{source}, $_->{data} ] } @{ $exec->{alerts}[0]{items} || [] } ],
              [ map { [ "./FwUpdate/P/State$_", 200 + $_ ] } 1 .. 3 ],
              "$enc: ... with its three Items");
    is(state_of($exec), 'done:202', "$enc: ... and keeps its own Status");
    is_deeply(api_command($id, $cid{copy})->{alerts}, undef, "$enc: other verbs have no alerts");

    # server-initiated abort: alone, Final, ends the session
    is_deeply([ map { "$_->{name}:" . ($_->{Data} // '') } cmds($r) ], [ 'Alert:1223' ],
              "$enc: the abort goes alone");
    ok($r->{final}, "$enc: ... with Final");
    is(state_of(api_command($id, $abort)), 'done:-', "$enc: the abort is done once handed over");
    is(api_command($id, $after)->{state}, 'queued', "$enc: the Get after it stays queued");
    $res = $d->post($d->answer($r));
    is(hdr_code($res->{syncml}), '407',
       "$enc: the session is over: a further message must authenticate anew");
    ok(!cmds($res->{syncml}), "$enc: ... and gets no command");

    # device abort: Statuses only, the unanswered Get queued again
    $d->new_session;
    $res = $d->post($d->package1);
    is_deeply([ map { $_->{items}[0]{target} } cmds($res->{syncml}) ], [ './After' ],
              "$enc: the Get goes out in the next session");
    $r = $res->{syncml};
    $d->{msg_id}++;
    $res = $d->post($d->_wrap($d->header, $d->_hdr_status($r, 1)
                              . $d->alert(2, { code => 1223 })));
    $r = $res->{syncml};
    is_deeply([ map { "$_->{Cmd}:$_->{Data}" } OmadmTest::Device::statuses($r) ],
              [ 'SyncHdr:200', 'Alert:200' ], "$enc: device abort answered with Statuses only");
    ok(!cmds($r) && $r->{final}, "$enc: ... no command, Final");
    is(api_command($id, $after)->{state}, 'sent', "$enc: the Get has no Status yet");
    my (undef, $alerts) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/alerts');
    is($alerts->[-1]{code}, '1223', "$enc: the abort is recorded as an alert");
    $d->new_session;
    $res = $d->post($d->package1);
    is_deeply([ map { $_->{items}[0]{target} } cmds($res->{syncml}) ], [ './After' ],
              "$enc: ... and queued again for the next session");
    $res = $d->post($d->answer($res->{syncml}, tree => { './After' => 'v' }));
    is(state_of(api_command($id, $after)), 'done:200', "$enc: then done");
}

$t->check_error_log;
done_testing;
