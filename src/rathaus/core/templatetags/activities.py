from django import template

from rathaus.core.events import activity_label

register = template.Library()
register.filter("activity_label", activity_label)
