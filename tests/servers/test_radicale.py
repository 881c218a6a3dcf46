import caldav


def test_it_serves_each_user_their_own_calendars(radicale, radicale_user):
    client = caldav.DAVClient(
        url=radicale_user.url, username=radicale_user.username, password=radicale_user.password
    )
    calendar = client.principal().make_calendar(name="Work", cal_id="work")
    calendar.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//\r\nBEGIN:VEVENT\r\nUID:a@t\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\n"
        "SUMMARY:Kickoff\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert str(calendar.url) == radicale_user.collection_url("work")
    assert [event.icalendar_component["SUMMARY"] for event in calendar.events()] == ["Kickoff"]

    stranger = radicale.add_user()
    other = caldav.DAVClient(
        url=stranger.url, username=stranger.username, password=stranger.password
    )
    assert other.principal().calendars() == []
