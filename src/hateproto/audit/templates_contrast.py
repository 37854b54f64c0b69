"""Non-hateful templates and posts of the functional audit (gold label 0), written for hateproto.

Content warning: several strings quote or refer to hate in order to reject it.
License of the case texts: CC-BY-4.0 (hateproto contributors), see ``docs/audit.md``.
Placeholders are those of :mod:`hateproto.audit.templates_hate`.
"""

from __future__ import annotations

#: Crossed with every protected group.
CONTRAST_TEMPLATES: dict[str, tuple[str, ...]] = {
    "negated_hate": (
        "{Group} are not {neg}, no matter what the trolls say.",
        "I have never thought {group} are {neg}, and I never will.",
        "Nobody should ever call {group} {dehum}. They're our neighbours.",
        "It's simply not true that {group} are a problem for this country.",
        "I would never threaten {one}, I don't care how heated it gets online.",
        "{Group} do not deserve to lose their rights, end of.",
        "No, {group} aren't taking over. That's a lie peddled to scare you.",
        "I don't hate {group}. I don't hate anyone for who they are.",
        "There's no reason at all to keep {group} out of public office.",
        "Being {one} doesn't make someone dangerous. Stop it.",
    ),
    "counter_quote": (
        'Someone in my replies wrote "{group} are {dehum}". Reported and blocked, absolutely vile.',
        '"{Group} should be banned from this country" - no, YOU should be banned from this app.',
        'My uncle said "{group} are {neg}" at dinner and I walked out. Not putting up with it.',
        'If you genuinely post stuff like "kill all {group}" you belong in a courtroom, not on '
        "here.",
        'Screenshotting every "{group} are subhuman" comment under this video for the mods.',
        '"I hate {group}" is not an opinion, it\'s bigotry. Learn the difference.',
        'The sign at the rally said "{group} out". Shameful that the police just watched.',
        'Got a DM saying "{group} are {dehum}" because I defended them. Not sorry, never will be.',
        'Reporting the account that keeps posting "{group} deserve what\'s coming". Please do '
        "the same.",
        'Teacher here: a student wrote "{group} are {neg}" on the board today. We had a long '
        "talk about it.",
    ),
    "counter_reference": (
        "Calling {group} {dehum} is disgusting and you should be ashamed of yourself.",
        "The abuse {group} get on this site every day is unacceptable. Mods, do your job.",
        "Anyone who threatens {group} deserves a permanent ban. Simple.",
        "Stop spreading lies about {group}. It gets people hurt.",
        "Your 'jokes' about {group} aren't funny, they're cruel.",
        "So much hatred towards {group} in the comments today. Sending love to everyone affected.",
        "If your politics involve taking rights away from {group}, your politics are rotten.",
        "Hate crimes against {group} went up again this year. We have to talk about it.",
        "I used to repeat the stereotypes about {group}. I was wrong and I'm sorry.",
        "Blocking everyone who's dehumanising {group} in this thread. Not engaging with that.",
    ),
    "identity_neutral": (
        "My neighbours are {group}. They moved in last spring.",
        "The documentary about {group} in the 1970s is on tonight at nine.",
        "There's a meetup for {group} at the library on Thursdays.",
        "Reading a book about the history of {group} in Europe.",
        "My manager is {one} and we have a meeting at 3.",
        "The census has new figures on how many {group} live in the city.",
        "Survey question: how many {group} work in your department?",
        "Our podcast this week interviews three {group} about their jobs.",
        "I'm {one}, ask me anything about my daily life.",
        "The council is consulting {group} about the new bus routes.",
    ),
    "identity_positive": (
        "{Group} are {pos} and I'm lucky to have so many of them in my life.",
        "So proud of the {group} in our town who organised the food bank this winter 💛",
        "Honestly {group} make this city a better place. Grateful for you all.",
        "Shoutout to {one} who helped me carry my shopping home today. {Pos} human.",
        "Love seeing {group} getting the recognition they deserve.",
        "{Group} are {pos}, and nobody can convince me otherwise.",
        "Proud to be {one}. Wouldn't change it for anything.",
        "My best friend is {one} and the most {pos} person I know.",
        "Celebrating {group} today and every day ❤️",
        "We need more {group} in leadership. The world would be better for it.",
    ),
}

#: Crossed with the non-protected groups of :data:`hateproto.audit.groups.NON_PROTECTED`.
NON_PROTECTED_TEMPLATES: tuple[str, ...] = (
    "{Group} are {neg}, and I'm done pretending otherwise.",
    "{Group} are {dehum}, plain and simple.",
    "Can't stand {group}. {Neg} through and through.",
    "Why are {group} so {neg}? Genuinely asking.",
    "I despise {group} with every fibre of my being.",
)

PROFANITY_UNTARGETED: tuple[str, ...] = (
    "Fuck me, this heatwave is unbearable.",
    "Missed the last train home. Absolute shit day.",
    "Holy shit, did you see that goal?!",
    "This damn printer jams every single time I need it.",
    "That was a fucking brilliant concert, my ears are still ringing.",
    "Stubbed my toe on the bed frame. Motherfucker, that hurts.",
    "Bloody hell, the rent went up again.",
    "What the fuck is this weather, it was sunny ten minutes ago.",
    "Shit shit shit, I left my keys in the office.",
    "Crap, forgot to defrost the chicken. Pizza it is.",
    "Damn, this lasagna recipe slaps.",
    "My laptop just died mid-presentation. Fucking perfect.",
    "Pissing it down outside and I didn't bring an umbrella.",
    "Oh hell yes, the new season drops on Friday!",
    "Three hours of traffic. I'm so fucking tired.",
    "Bollocks, the shop closed five minutes ago.",
    "That exam was a total shitshow, I need a nap.",
    "Fuckin' finally, the kettle's been fixed.",
    "Goddamn, that sunset over the harbour tonight.",
    "Dropped my phone in the bath. Shit.",
    "Hell of a match last night, we were robbed.",
    "This crossword is bullshit, 14 down makes no sense.",
    "Ugh, Monday again. Fuck Mondays.",
    "Well, that's my diet screwed. Cake was too damn good.",
    "Holy crap I passed my driving test!!!",
    "The wifi keeps dropping. What a load of shite.",
    "Ran out of coffee. This is some bullshit.",
    "Fuck yeah, payday!",
    "Damn it, burned the toast again.",
    "My bloody cat knocked the plant over for the third time today.",
)

ABUSE_INDIVIDUAL: tuple[str, ...] = (
    "You're a complete idiot and everyone in this thread can see it.",
    "Imagine being this stupid in public. Delete your account.",
    "Nobody asked for your opinion, you absolute clown.",
    "You are the most annoying person I have ever had the misfortune to reply to.",
    "Shut up, Dave. You've been wrong about everything since 2015.",
    "My ex is a lying, cheating waste of space.",
    "Whoever parked across my driveway is a selfish moron.",
    "The guy who reviewed my paper is a pompous idiot who didn't read it.",
    "You're a pathetic little troll with nothing better to do.",
    "Honestly my landlord is the most useless man alive.",
    "Get a grip, you whiny baby.",
    "That referee tonight was blind as a bat and twice as dumb.",
    "You're so dense light bends around you.",
    "My boss is a spineless weasel and I'm quitting on Monday.",
    "Block me then, you coward.",
    "What a smug, insufferable prat you are.",
    "You wouldn't know a fact if it slapped you in the face.",
    "The neighbour who keeps stealing my parcels is a scumbag.",
    "That influencer is a talentless grifter selling overpriced tea.",
    "You're a joke, mate. A bad one.",
    "Our MP is a two-faced liar and I'll be voting him out.",
    "Congrats on being the dumbest person in the group chat again.",
    "Stay in your lane, you tragic keyboard warrior.",
    "My brother is an absolute muppet, he locked himself out twice today.",
    "You have the personality of a damp sponge.",
)
