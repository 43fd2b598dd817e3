"""Actions used by tests/test_action_server.py: one that works, one that fails."""

from rasa_sdk import Action


class ActionEcho(Action):
    def name(self):
        return "action_echo"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="ok")
        return []


class ActionBroken(Action):
    def name(self):
        return "action_broken"

    async def run(self, dispatcher, tracker, domain):
        raise KeyError(tracker.latest_message.get("text"))  # an error message holding the resident's words
